import { KeyedLock, QueueFull } from '../../src/http/keyed-lock';

describe('KeyedLock', () => {
  test('runs work for one key one at a time, in arrival order', async () => {
    const lock = new KeyedLock();
    const events: string[] = [];
    const gates = [0, 1, 2].map(() => {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      return { gate, open };
    });
    const runs = gates.map((g, i) =>
      lock.run('qr-1', async () => {
        events.push(`start ${i}`);
        await g.gate;
        events.push(`end ${i}`);
        return i;
      })
    );
    await Promise.resolve();
    gates[2]!.open();
    gates[1]!.open();
    gates[0]!.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(events).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    expect(lock.size).toBe(0);
  });

  test('different keys run concurrently', async () => {
    const lock = new KeyedLock();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const events: string[] = [];
    const a = lock.run('a', async () => {
      events.push('a start');
      await gate;
      events.push('a end');
    });
    const b = lock.run('b', async () => {
      events.push('b ran');
    });
    await b;
    expect(events).toEqual(['a start', 'b ran']);
    open();
    await a;
  });

  test('a failure releases the key for the next work', async () => {
    const lock = new KeyedLock();
    await expect(lock.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await lock.run('k', async () => 'next')).toBe('next');
    expect(lock.size).toBe(0);
  });
});

describe('KeyedLock bound', () => {
  test('past the bound a key refuses more work (QueueFull) until its queue drains; other keys are not affected', async () => {
    const lock = new KeyedLock(2);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const first = lock.run('k', () => gate);
    const second = lock.run('k', async () => 'second');
    await expect(lock.run('k', async () => 'third')).rejects.toBeInstanceOf(QueueFull);
    await expect(lock.run('other', async () => 'other')).resolves.toBe('other');
    open();
    await first;
    await expect(second).resolves.toBe('second');
    await expect(lock.run('k', async () => 'later')).resolves.toBe('later');
    expect(lock.size).toBe(0);
  });
});
