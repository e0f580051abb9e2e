import { liveBlock, transitionKey, transitionLine, type LiveSnapshot } from './live-view.ts';

/** Cursor to the start of the line `n` lines up, then clear to the end of the screen. */
const up = (n: number): string => `\x1b[${String(n)}F\x1b[J`;

/**
 * Where the demo talks: on a terminal, a block redrawn in place; elsewhere (a pipe, a log, a test),
 * one line per transition, so the output reads as a history.
 */
export class TerminalView {
  private readonly out: NodeJS.WriteStream;
  private readonly redraw: boolean;
  private drawn = 0;
  private lastKey: string | undefined;

  constructor(out: NodeJS.WriteStream) {
    this.out = out;
    this.redraw = out.isTTY;
  }

  /** A line of its own, above the live block (setup steps, the result). */
  note(line: string): void {
    this.erase();
    this.out.write(`${line}\n`);
  }

  show(snapshot: LiveSnapshot): void {
    if (!this.redraw) {
      const key = transitionKey(snapshot);
      if (key !== this.lastKey) this.out.write(`${transitionLine(snapshot)}\n`);
      this.lastKey = key;
      return;
    }
    // A line wider than the terminal would wrap and throw the count of lines to move up off.
    const width = Math.max(20, this.out.columns - 1);
    const lines = liveBlock(snapshot).map((line) => line.slice(0, width));
    this.erase();
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  /** Leaves the last block on screen: notes from now on go below it. */
  keep(): void {
    this.drawn = 0;
  }

  private erase(): void {
    if (this.drawn > 0) this.out.write(up(this.drawn));
    this.drawn = 0;
  }
}
