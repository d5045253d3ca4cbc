// reference-backend/connection.ts: one client connection of the backend's own HTTP/1.1 server,
// serving its requests one after another (http1.ts parses them). Every wait on the client has a
// deadline, because a client that sends nothing (slowloris) would otherwise hold its socket, and
// the file descriptor behind it, for good:
//   - a new connection has HEADER_TIMEOUT to deliver its first request head;
//   - a kept-alive connection may wait IDLE_TIMEOUT for its next request, which then has
//     HEADER_TIMEOUT for the rest of its head;
//   - a body has HEADER_TIMEOUT after its head, and a reply WRITE_TIMEOUT_MS to be taken. A body
//     is sent before any token is judged (an enrollment, a console login) and its connection is
//     never idle, so it cannot be closed for room: a longer deadline would let a body trickled a
//     byte at a time hold a slot many times longer than a silent connection can.
// While it waits for a request's first byte the connection is "idle": the listener may close it
// to make room for a new one (listener.ts).
import { failure, HttpError } from "./http.ts";
import {
  type BodyFraming,
  CONTINUE,
  headEnd,
  MalformedRequest,
  MAX_HEAD_BYTES,
  parseHead,
  type RequestHead,
  responseHead,
} from "./http1.ts";

/** The two client deadlines an operator sets (settings.ts), in milliseconds. */
export interface ConnectionLimits {
  readonly headerTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

/** What a handler is told besides the request: the client's address (rate limits use it). */
export interface RequestInfo {
  readonly remoteAddr: Deno.NetAddr;
}

/** A route handler: server.ts's createHandler. It should answer every error itself. */
export type RequestHandler = (request: Request, info: RequestInfo) => Promise<Response>;

// Fixed, not a setting.
const WRITE_TIMEOUT_MS = 30_000;
// After an answer sent before the body was read (413), the rest is read and dropped for a moment:
// closing with unread bytes makes the kernel send a reset, which can destroy the answer in flight.
const LINGER_MS = 1_000;
const LINGER_BYTES = 4 * 1024 * 1024;
const MAX_CHUNK_LINE = 4096;
const EMPTY = new Uint8Array(0);

class TimedOut extends Error {}

/** Told when the connection starts or stops waiting for a request's first byte, and when it ends. */
export interface ConnectionHooks {
  /** `fresh`: it has not sent a byte yet; else it is kept alive after a reply. */
  idle(connection: Connection, idle: boolean, fresh: boolean): void;
  closed(connection: Connection): void;
  /**
   * True when the server is near its connection cap: a reply then says `Connection: close` and
   * the connection ends. A client told so does not reuse it, whereas closing a kept-alive
   * connection later, to make room, races the client's next request on it.
   */
  crowded(): boolean;
}

/** One accepted connection; `done` resolves (never rejects) once it is closed. */
export class Connection {
  readonly done: Promise<void>;
  /** When it was accepted (performance.now()). */
  readonly acceptedAt = performance.now();
  #received = false;
  #buffer: Uint8Array = EMPTY;
  #reading: Promise<boolean> | undefined;
  #closed = false;
  #draining = false;
  #idle = false;

  constructor(
    private readonly conn: Deno.TcpConn,
    private readonly handler: RequestHandler,
    private readonly limits: ConnectionLimits,
    private readonly origin: string,
    private readonly hooks: ConnectionHooks,
  ) {
    this.done = this.#serve();
  }

  /** True until the client sends its first byte. */
  get silent(): boolean {
    return !this.#received;
  }

  /** True while it waits for a request's first byte: closing it loses no request. */
  get idle(): boolean {
    return this.#idle;
  }

  /** Closes the socket at once; a read or write in progress fails and the connection ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#setIdle(false);
    try {
      this.conn.close();
    } catch {
      // already closed by the runtime
    }
  }

  /** For shutdown: closes now if idle, else after the request in progress is answered. */
  drain(): void {
    this.#draining = true;
    if (this.#idle) this.close();
  }

  async #serve(): Promise<void> {
    try {
      for (let first = true; !this.#draining; first = false) {
        const head = await this.#readHead(first);
        if (head === null || !await this.#answer(head)) break;
      }
    } catch (error) {
      if (error instanceof MalformedRequest && !this.#closed) {
        const reply = failure(new HttpError(error.status, error.message));
        await this.#reply(reply, false, true).catch(() => {});
        await this.#linger();
      }
      // TimedOut, or a socket error (reset, closed for eviction): nothing to answer.
    } finally {
      this.close();
      this.hooks.closed(this);
    }
  }

  /** The next request head, or null when the client closed the connection between requests. */
  async #readHead(first: boolean): Promise<RequestHead | null> {
    const now = performance.now();
    let until = now + this.limits.headerTimeoutMs;
    if (this.#buffer.length === 0) {
      this.#setIdle(true, first);
      const arrived = await this.fill(first ? until : now + this.limits.idleTimeoutMs);
      this.#setIdle(false);
      if (!arrived) return null;
      // A kept-alive connection's head gets the whole header deadline from its first byte on.
      if (!first) until = performance.now() + this.limits.headerTimeoutMs;
    }
    let scanned = 0;
    for (;;) {
      const end = headEnd(this.#buffer, scanned);
      if (end >= 0) {
        if (end > MAX_HEAD_BYTES) throw tooLarge();
        const head = parseHead(this.#buffer.subarray(0, end));
        this.#buffer = this.#buffer.subarray(end);
        return head;
      }
      if (this.#buffer.length > MAX_HEAD_BYTES) throw tooLarge();
      scanned = this.#buffer.length;
      if (!await this.fill(until)) return null;
    }
  }

  /** Runs the handler on one request and writes its reply; true to keep the connection. */
  async #answer(head: RequestHead): Promise<boolean> {
    const bodyless = head.method === "GET" || head.method === "HEAD";
    const body = head.body.kind === "none" || bodyless
      ? null
      : new Body(this, head, this.limits.headerTimeoutMs);
    let request: Request;
    try {
      request = new Request(this.origin + head.target, {
        method: head.method,
        headers: head.headers,
        body: body?.stream ?? null,
        // @ts-ignore: duplex is in the fetch standard and in Deno, not yet in lib.dom's RequestInit
        duplex: "half",
      });
    } catch {
      throw new MalformedRequest(400, "unsupported method or target");
    }
    let response: Response;
    try {
      response = await this.handler(request, { remoteAddr: this.conn.remoteAddr });
    } catch {
      // createHandler answers every error itself; this is the net under it.
      response = failure(new HttpError(500, "internal error; see the backend's log"));
    }
    const unread = head.body.kind !== "none" && body?.finished !== true;
    const close = unread || !head.keepAlive || this.#draining || this.hooks.crowded();
    await this.#reply(response, head.method === "HEAD", close);
    if (unread) await this.#linger();
    return !close;
  }

  async #reply(response: Response, head: boolean, close: boolean): Promise<void> {
    const bytes = head ? EMPTY : new Uint8Array(await response.arrayBuffer());
    const length = head ? Number(response.headers.get("content-length") ?? 0) : bytes.length;
    const start = responseHead(response.status, response.headers, length, close);
    const whole = new Uint8Array(start.length + bytes.length);
    whole.set(start);
    whole.set(bytes, start.length);
    await this.write(whole);
  }

  /** Writes all of `bytes`, or closes the connection when the client takes too long. */
  async write(bytes: Uint8Array): Promise<void> {
    const timer = setTimeout(() => this.close(), WRITE_TIMEOUT_MS);
    try {
      for (let offset = 0; offset < bytes.length;) {
        offset += await this.conn.write(bytes.subarray(offset));
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Half-closes, then reads and drops what the client still sends, for a moment, and closes. */
  async #linger(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.conn.closeWrite();
      const until = performance.now() + LINGER_MS;
      let dropped = 0;
      while (dropped < LINGER_BYTES && await this.fill(until)) {
        dropped += this.#buffer.length;
        this.#buffer = EMPTY;
      }
    } catch {
      // timed out or reset: close now
    }
    this.close();
  }

  /** The unread bytes; `take` removes the first `n`. */
  get buffered(): Uint8Array {
    return this.#buffer;
  }

  take(n: number): Uint8Array {
    const taken = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return taken;
  }

  /**
   * Reads more bytes into the buffer; false at the end of the stream (or once closed). Throws
   * TimedOut when nothing came by `until` (performance.now() time). One read is in flight at most:
   * a read left behind by a timeout is picked up by the next call, or fails when the socket closes.
   */
  async fill(until: number): Promise<boolean> {
    if (this.#closed) return false;
    this.#reading ??= this.#read();
    const wait = until - performance.now();
    if (wait <= 0) throw new TimedOut();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimedOut()), wait);
    });
    try {
      return await Promise.race([this.#reading, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #read(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      const n = await this.conn.read(chunk);
      if (n === null) return false;
      this.#received = true;
      const joined = new Uint8Array(this.#buffer.length + n);
      joined.set(this.#buffer);
      joined.set(chunk.subarray(0, n), this.#buffer.length);
      this.#buffer = joined;
      return true;
    } catch {
      return false; // reset, or closed by a deadline or an eviction
    } finally {
      this.#reading = undefined;
    }
  }

  #setIdle(idle: boolean, fresh = false): void {
    if (this.#idle === idle) return;
    this.#idle = idle;
    this.hooks.idle(this, idle, fresh);
  }
}

/** A request body as a stream, read from the connection as the handler asks for it. */
class Body {
  readonly stream: ReadableStream<Uint8Array>;
  finished = false;
  #remaining: number; // of a length-framed body, or of the current chunk
  #phase: "data" | "size" | "crlf" | "trailers";
  #continued: boolean;
  readonly #until: number;

  constructor(private readonly connection: Connection, head: RequestHead, timeoutMs: number) {
    this.#until = performance.now() + timeoutMs;
    const framing = head.body as Exclude<BodyFraming, { kind: "none" }>;
    this.#remaining = framing.kind === "length" ? framing.length : 0;
    this.#phase = framing.kind === "length" ? "data" : "size";
    this.#continued = !head.expectContinue;
    this.stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const chunk = await this.#next(framing.kind === "chunked");
          if (chunk === null) {
            this.finished = true;
            controller.close();
          } else {
            controller.enqueue(chunk);
          }
        } catch (error) {
          controller.error(
            error instanceof TimedOut
              ? new HttpError(408, `the body did not arrive within ${timeoutMs / 1000} s`)
              : error instanceof HttpError
              ? error
              : new HttpError(400, "the body was cut short"),
          );
        }
      },
    });
  }

  /** The next piece of the body, or null at its end. */
  async #next(chunked: boolean): Promise<Uint8Array | null> {
    if (!this.#continued) {
      this.#continued = true;
      if (this.connection.buffered.length === 0) await this.connection.write(CONTINUE);
    }
    for (;;) {
      if (this.#phase === "data") {
        if (this.#remaining === 0) {
          if (!chunked) return null;
          this.#phase = "crlf";
          continue;
        }
        await this.#need(1);
        const piece = this.connection.take(
          Math.min(this.#remaining, this.connection.buffered.length),
        );
        this.#remaining -= piece.length;
        if (!chunked && this.#remaining === 0) this.finished = true;
        return piece;
      }
      const line = await this.#line();
      if (this.#phase === "crlf") {
        if (line !== "") throw malformedChunk();
        this.#phase = "size";
      } else if (this.#phase === "size") {
        const size = /^([0-9a-fA-F]{1,8})(?:;.*)?$/.exec(line);
        if (size === null) throw malformedChunk();
        this.#remaining = parseInt(size[1], 16);
        this.#phase = this.#remaining === 0 ? "trailers" : "data";
      } else if (line === "") {
        return null; // the blank line after the trailers (usually none)
      }
    }
  }

  /** The next CRLF-terminated line of the chunked framing, without its CRLF. */
  async #line(): Promise<string> {
    for (let scanned = 0;;) {
      const bytes = this.connection.buffered;
      const end = bytes.indexOf(10, scanned);
      if (end >= 0) {
        if (end === 0 || bytes[end - 1] !== 13) throw malformedChunk();
        const line = this.connection.take(end + 1);
        return String.fromCharCode(...line.subarray(0, end - 1));
      }
      if (bytes.length > MAX_CHUNK_LINE) throw malformedChunk();
      scanned = bytes.length;
      await this.#need(bytes.length + 1);
    }
  }

  async #need(bytes: number): Promise<void> {
    while (this.connection.buffered.length < bytes) {
      if (!await this.connection.fill(this.#until)) {
        throw new HttpError(400, "the body was cut short");
      }
    }
  }
}

function malformedChunk(): HttpError {
  return new HttpError(400, "malformed chunked body");
}

function tooLarge(): MalformedRequest {
  return new MalformedRequest(431, `the request head is larger than ${MAX_HEAD_BYTES} bytes`);
}
