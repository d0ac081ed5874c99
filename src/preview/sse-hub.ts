import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Server-sent events to every open page. SSE rather than a WebSocket: one direction is all a
 * preview needs, the browser reconnects by itself, and it is plain HTTP with no extra package.
 */
export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(heartbeatMs = 15_000) {
    // Proxies and some browsers drop a silent stream; a comment line keeps it open.
    this.heartbeat = setInterval(() => this.write(': ping\n\n'), heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  add(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // A short retry so that a restarted server is picked up quickly.
    response.write('retry: 500\n\n');
    response.socket?.setNoDelay(true);
    this.clients.add(response);
    request.on('close', () => this.clients.delete(response));
  }

  send(event: string, data: unknown): void {
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private write(chunk: string): void {
    for (const client of this.clients) client.write(chunk);
  }
}
