import { isInteger, isSafeNumber, parse as parseLossless } from 'lossless-json';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { SharedTokenProvider } from './token-provider';

export type Row = Record<string, unknown>;
export type Tables = Map<string, Map<string, Row>>;

export interface RowChange {
  table: string;
  id: string;
  kind: 'insert' | 'update' | 'delete';
  row?: Row;
  previous?: Row;
}

export interface RealtimeStateOptions {
  siteUrl: string;
  tokens: Pick<SharedTokenProvider, 'get' | 'invalidate'>;
  /** `all`, or the tables of the guide's system state model to follow. */
  tables: 'all' | string[];
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Give up on a connection that has not finished authenticate + subscribe within this time. */
  handshakeTimeoutMs?: number;
}

/**
 * The guide: row ids are unsigned 64-bit integers (up to 18446744073709551615) since 16.2, and the
 * foreign keys (`support_session_id`, `queue_id`, ...) carry them too. JSON.parse would round any above
 * 2^53 (and Node 20's JSON.parse gives a reviver no source text), so messages go through lossless-json:
 * an integer a double cannot hold exactly stays its digits, and every id field is a string whatever its
 * size, so an id reads the same as the row key it points at.
 */
export function parseStateMessage(line: string): unknown {
  return parseLossless(
    line,
    (key, value) => ((key === 'id' || key.endsWith('_id')) && typeof value === 'number' ? String(value) : value),
    (digits) => (isInteger(digits) && !isSafeNumber(digits) ? digits : Number(digits)),
  );
}

/** The guide: the subprotocol must be sent URL-encoded. */
export const REALTIME_SUBPROTOCOL = 'ingredi%20state%20api';

type Phase = 'authenticating' | 'subscribing' | 'streaming';

/**
 * Real-Time State API (`wss://<host>/nw`): authenticate with the shared OAuth token, subscribe, and keep
 * a local copy of the tables through model_update (insert/update/delete) and truncate_model messages.
 * Messages are newline-terminated JSON; a large one may arrive split over several frames and is
 * reassembled. Reconnects with exponential backoff; each new subscription starts from a fresh copy.
 *
 * Events: `ready` (subscribed; the appliance's clock in UNIX seconds), `change` (RowChange),
 * `truncate`, `disconnected` (reason), `error` (Error).
 */
export class RealtimeStateClient extends EventEmitter {
  readonly tables: Tables = new Map();
  /** The appliance clock minus ours, in seconds, from the last subscribe_response. */
  clockSkewSeconds = 0;
  private socket?: WebSocket;
  private buffer = '';
  private phase: Phase = 'authenticating';
  private attempts = 0;
  private stopped = true;
  private reconnectTimer?: NodeJS.Timeout;
  private handshakeTimer?: NodeJS.Timeout;
  private token = '';

  constructor(private readonly options: RealtimeStateOptions) {
    super();
  }

  get connected(): boolean {
    return this.phase === 'streaming' && this.socket?.readyState === WebSocket.OPEN;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.handshakeTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close();
        setTimeout(() => socket.terminate(), 1_000).unref();
      });
    }
  }

  /** Rows of one table, as currently known. */
  rows(table: string): Row[] {
    return [...(this.tables.get(table)?.values() ?? [])];
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    try {
      this.token = await this.options.tokens.get();
    } catch (error) {
      this.emit('error', error);
      return this.scheduleReconnect('no token');
    }
    const url = `${this.options.siteUrl.replace(/\/$/, '').replace(/^http/, 'ws')}/nw`;
    const socket = new WebSocket(url, [REALTIME_SUBPROTOCOL]);
    this.socket = socket;
    this.buffer = '';
    this.phase = 'authenticating';
    this.handshakeTimer = setTimeout(() => socket.terminate(), this.options.handshakeTimeoutMs ?? 15_000);

    socket.on('open', () => this.send({ type: 'authenticate', credentials: { bearer_token: this.token } }));
    socket.on('message', (data: WebSocket.RawData) => this.receive(data));
    socket.on('error', (error) => this.emit('error', error));
    socket.on('close', (_code, reason) => {
      clearTimeout(this.handshakeTimer);
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.emit('disconnected', reason.toString() || 'connection closed');
      this.scheduleReconnect('closed');
    });
  }

  private scheduleReconnect(why: string): void {
    if (this.stopped) return;
    const min = this.options.reconnectMinMs ?? 500;
    const max = this.options.reconnectMaxMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** this.attempts) * (0.5 + Math.random() / 2);
    this.attempts += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    void why;
  }

  private send(message: unknown): void {
    // Each message to the appliance is one text frame ending in a newline.
    this.socket?.send(`${JSON.stringify(message)}\n`);
  }

  private receive(data: WebSocket.RawData): void {
    const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    this.buffer += chunk.toString('utf8');
    // A message ends with \n; anything after the last newline is the start of a message split over frames.
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (!line) continue;
      let message: { type?: string; success?: boolean; reason?: string; timestamp?: number } & Record<string, unknown>;
      try {
        message = parseStateMessage(line) as typeof message;
      } catch {
        this.emit('error', new Error('real-time state API sent a message that is not JSON'));
        this.socket?.terminate();
        return;
      }
      this.handle(message);
    }
  }

  private handle(message: { type?: string; success?: boolean; reason?: string; timestamp?: number } & Record<string, unknown>): void {
    switch (message.type) {
      case 'authenticate_response':
        if (!message.success) {
          // Most often an expired or revoked token: drop it so the next attempt fetches a fresh one.
          void this.options.tokens.invalidate(this.token);
          this.emit('error', new Error(`real-time state API refused the token: ${message.reason ?? 'no reason given'}`));
          this.socket?.close();
          return;
        }
        this.phase = 'subscribing';
        this.send({ type: 'subscribe', tables: this.options.tables });
        return;
      case 'subscribe_response':
        if (!message.success) {
          this.emit('error', new Error(`real-time state API refused the subscription: ${message.reason ?? 'no reason given'}`));
          this.socket?.close();
          return;
        }
        clearTimeout(this.handshakeTimer);
        this.attempts = 0;
        // A new subscription starts with a full copy: forget what an earlier connection knew.
        this.truncate();
        this.phase = 'streaming';
        this.clockSkewSeconds = typeof message.timestamp === 'number' ? message.timestamp - Date.now() / 1000 : 0;
        this.emit('ready', message.timestamp);
        return;
      case 'model_update':
        this.applyUpdate(message);
        return;
      case 'truncate_model':
        this.truncate();
        return;
      default:
        return;
    }
  }

  private truncate(): void {
    if (this.tables.size === 0) return;
    this.tables.clear();
    this.emit('truncate');
  }

  private applyUpdate(message: Record<string, unknown>): void {
    const section = (name: string) => (message[name] ?? {}) as Record<string, Record<string, Row>>;
    for (const [kind, tables] of [
      ['insert', section('insert')],
      ['update', section('update')],
    ] as const) {
      for (const [table, rows] of Object.entries(tables)) {
        const copy = this.tables.get(table) ?? new Map<string, Row>();
        this.tables.set(table, copy);
        for (const [id, fields] of Object.entries(rows)) {
          const previous = copy.get(id);
          const row = kind === 'insert' ? { ...fields } : { ...previous, ...fields };
          copy.set(id, row);
          this.emit('change', { table, id, kind, row, previous } satisfies RowChange);
        }
      }
    }
    for (const [table, ids] of Object.entries((message.delete ?? {}) as Record<string, string[]>)) {
      const copy = this.tables.get(table);
      for (const id of ids) {
        const previous = copy?.get(id);
        copy?.delete(id);
        this.emit('change', { table, id, kind: 'delete', previous } satisfies RowChange);
      }
    }
  }
}
