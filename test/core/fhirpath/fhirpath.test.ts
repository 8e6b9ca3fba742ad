import {
  compileFhirPath,
  compileFhirPathNodes,
  evaluateFhirPath,
  FhirPathError,
  isTrue,
} from '../../../src/core/fhirpath/fhirpath';

const qr = {
  resourceType: 'QuestionnaireResponse',
  status: 'completed',
  item: [{ linkId: 'g', item: [{ linkId: 'vol', answer: [{ valueDecimal: 1.2 }] }] }],
};

describe('fhirpath', () => {
  test('trace() in content writes nothing to stdout or the console, and still returns its input (issue 14.6)', () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const forged = `'{"level":50,"msg":"forged"}'`;
      expect(evaluateFhirPath(`item.trace(${forged}, linkId).linkId`, qr)).toEqual(['g']);
      expect(evaluateFhirPath(`%secret.trace(${forged})`, qr, { secret: 'Jane Doe' })).toEqual(['Jane Doe']);
      expect(compileFhirPathNodes("repeat(item).trace('x').count()")(qr)).toEqual([2]);
      expect(log).not.toHaveBeenCalled();
      expect(write).not.toHaveBeenCalled();
    } finally {
      log.mockRestore();
      write.mockRestore();
    }
  });

  test('resolves choice elements on a resource and compares with variables', () => {
    expect(
      evaluateFhirPath("repeat(item).where(linkId='vol').answer.value < %limit", qr, { limit: 1.5 })
    ).toEqual([true]);
  });

  test('resolves choice elements on a non-resource node when the base type is given', () => {
    const item = qr.item[0]!.item[0]!;
    expect(evaluateFhirPath('answer.value', item, {}, 'QuestionnaireResponse.item')).toEqual([1.2]);
  });

  test('caches compiled expressions', () => {
    expect(compileFhirPath('status')).toBe(compileFhirPath('status'));
    expect(compileFhirPath('status', 'QuestionnaireResponse')).not.toBe(compileFhirPath('status'));
  });

  test('reports a syntax error with the expression', () => {
    expect(() => compileFhirPath('item.where(')).toThrow(FhirPathError);
    expect(() => compileFhirPath('item.where(')).toThrow(/item\.where\(/);
  });

  test('isTrue accepts only a single true', () => {
    expect(isTrue([true])).toBe(true);
    expect(isTrue([])).toBe(false);
    expect(isTrue([true, true])).toBe(false);
    expect(isTrue(['true'])).toBe(false);
  });
});
