// A small live chart: bytes processed per second over the last minute, drawn on a canvas.

const WINDOW_S = 60;

export class ThroughputChart {
  private readonly samples: number[] = [];

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** Adds one second's figure and redraws. */
  push(bytesPerSecond: number): void {
    this.samples.push(bytesPerSecond);
    if (this.samples.length > WINDOW_S) this.samples.shift();
    this.draw();
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (ctx === null) return;
    const { width, height } = this.canvas;
    ctx.clearRect(0, 0, width, height);
    const max = Math.max(1, ...this.samples);
    const step = width / (WINDOW_S - 1);
    const offset = WINDOW_S - this.samples.length;
    ctx.beginPath();
    this.samples.forEach((value, i) => {
      const x = (offset + i) * step;
      const y = height - 4 - (value / max) * (height - 12);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = '#2563eb';
    ctx.lineWidth = 2;
    ctx.stroke();
  }
}
