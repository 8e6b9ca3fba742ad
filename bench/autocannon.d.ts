// The part of autocannon 9's API the HTTP benchmark uses (the package ships no types).
declare module 'autocannon' {
  interface Request {
    readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
    readonly path?: string;
    readonly headers?: Record<string, string>;
    readonly body?: string;
  }
  interface Options {
    readonly url: string;
    readonly connections?: number;
    readonly duration?: number;
    readonly requests?: readonly Request[];
    /** Requests per second over all connections (no limit when absent). */
    readonly overallRate?: number;
    /** Seconds before a request counts as timed out (default 10). */
    readonly timeout?: number;
  }
  interface Histogram {
    readonly average: number;
    readonly total: number;
    readonly p50: number;
    readonly p99: number;
  }
  interface Result {
    readonly requests: Histogram;
    readonly latency: Histogram;
    readonly errors: number;
    readonly timeouts: number;
    readonly non2xx: number;
  }
  /** A running load: awaitable for the result, and an emitter of each response and request error. */
  interface Instance extends PromiseLike<Result> {
    on(
      event: 'response',
      listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void
    ): this;
    on(event: 'reqError', listener: (error: Error) => void): this;
  }
  function autocannon(options: Options): Instance;
  export default autocannon;
}
