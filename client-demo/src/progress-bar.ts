// An accessible progress bar: role="progressbar" with aria values, a visible fill and a caption.
// The fill is scaled rather than resized (the compositor moves it, no layout), and
// nothing is written when nothing changed: a dashboard sets hundreds of bars a second.

export type BarState = 'running' | 'done' | 'failed' | 'cancelled' | 'pending';

export interface ProgressBar {
  readonly element: HTMLElement;
  /** fraction in 0..1; `text` is what a screen reader announces (aria-valuetext). */
  set(fraction: number, text: string, state?: BarState): void;
}

export function createProgressBar(label: string): ProgressBar {
  const element = document.createElement('div');
  element.className = 'bar';
  element.setAttribute('role', 'progressbar');
  element.setAttribute('aria-label', label);
  element.setAttribute('aria-valuemin', '0');
  element.setAttribute('aria-valuemax', '100');
  element.setAttribute('aria-valuenow', '0');
  const fill = document.createElement('div');
  fill.className = 'bar-fill';
  element.append(fill);
  let shown = { percent: -1, text: '', state: '' };
  return {
    element,
    set(fraction, text, state = 'running') {
      const percent = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
      if (percent === shown.percent && text === shown.text && state === shown.state) return;
      if (percent !== shown.percent) {
        element.setAttribute('aria-valuenow', String(percent));
        fill.style.transform = `scaleX(${percent / 100})`;
      }
      if (text !== shown.text) element.setAttribute('aria-valuetext', text);
      if (state !== shown.state) element.dataset.state = state;
      shown = { percent, text, state };
    },
  };
}
