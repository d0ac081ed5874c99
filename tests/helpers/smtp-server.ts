import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/**
 * A real SMTP server on 127.0.0.1 for the send tests (and the benchmark's twin in bench/). It
 * records the transcript that matters: which recipients each DATA was accepted for. Behaviour
 * hooks answer 4xx/5xx to chosen RCPTs or drop the connection in the middle of a DATA.
 */

export interface Delivery {
  from: string;
  to: string[];
  raw: Buffer;
  session: string;
}

export type Reply = { code: number; message: string } | null;

export interface ServerBehaviour {
  /** Called for every RCPT TO; `attempt` counts the RCPTs seen so far for that address (1-based). */
  onRcpt?: (address: string, attempt: number) => Reply;
  /** Called when a DATA starts; `drop` closes the connection after reading part of the message. */
  onData?: (index: number, to: string[]) => 'drop' | Reply;
  /** Milliseconds to wait before accepting each message. */
  delayMs?: number;
  /** Keep only counts, not the messages (for big runs). */
  countOnly?: boolean;
  /** Answer every AUTH with 535. */
  rejectAuth?: boolean;
}

export interface TestSmtpServer {
  port: number;
  url: string;
  deliveries: Delivery[];
  /** Accepted DATA count per lower-cased address. */
  counts: Map<string, number>;
  accepted: number;
  rcptAttempts: Map<string, number>;
  dataStarted: number;
  errors: Error[];
  /** `user:pass` of every AUTH. */
  logins: string[];
  deliveredTo(address: string): number;
  waitForAccepted(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSmtpServer(behaviour: ServerBehaviour = {}): Promise<TestSmtpServer> {
  const state = {
    deliveries: [] as Delivery[],
    counts: new Map<string, number>(),
    accepted: 0,
    rcptAttempts: new Map<string, number>(),
    dataStarted: 0,
    errors: [] as Error[],
    logins: [] as string[],
  };
  const waiters: { n: number; resolve: () => void }[] = [];

  const server: SMTPServer = new SMTPServer({
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      state.logins.push(`${auth.username}:${auth.password}`);
      if (behaviour.rejectAuth) return callback(Object.assign(new Error('5.7.8 bad credentials'), { responseCode: 535 }));
      callback(null, { user: auth.username });
    },
    size: 10 * 1024 * 1024,
    onRcptTo(address, _session, callback) {
      const key = address.address.toLowerCase();
      const attempt = (state.rcptAttempts.get(key) ?? 0) + 1;
      state.rcptAttempts.set(key, attempt);
      const reply = behaviour.onRcpt?.(key, attempt) ?? null;
      if (reply) return callback(Object.assign(new Error(reply.message), { responseCode: reply.code }));
      callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      const index = state.dataStarted++;
      const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
      const action = behaviour.onData?.(index, to) ?? null;
      const chunks: Buffer[] = [];
      let size = 0;
      let dropped = false;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (!behaviour.countOnly) chunks.push(chunk);
        if (action === 'drop' && !dropped && size > 1000) {
          dropped = true;
          for (const connection of (server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }).connections) {
            if (connection.id === session.id) connection._socket.destroy();
          }
        }
      });
      stream.on('end', () => {
        if (dropped) return;
        const finish = () => {
          if (action && action !== 'drop') return callback(Object.assign(new Error(action.message), { responseCode: action.code }));
          state.accepted++;
          for (const address of to) state.counts.set(address, (state.counts.get(address) ?? 0) + 1);
          if (!behaviour.countOnly) state.deliveries.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to, raw: Buffer.concat(chunks), session: session.id });
          callback(null, 'Message queued');
          for (const waiter of [...waiters]) {
            if (state.accepted >= waiter.n) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve();
            }
          }
        };
        if (behaviour.delayMs) setTimeout(finish, behaviour.delayMs);
        else finish();
      });
    },
  });
  server.on('error', (error) => state.errors.push(error));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as { port: number }).port;

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    get deliveries() {
      return state.deliveries;
    },
    counts: state.counts,
    get accepted() {
      return state.accepted;
    },
    rcptAttempts: state.rcptAttempts,
    get dataStarted() {
      return state.dataStarted;
    },
    errors: state.errors,
    logins: state.logins,
    deliveredTo: (address) => state.counts.get(address.toLowerCase()) ?? 0,
    waitForAccepted(n, timeoutMs = 20_000) {
      if (state.accepted >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server accepted ${state.accepted} of ${n} messages in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
