// An accessible progress bar: role="progressbar" with aria values, a visible fill and a caption.

export interface ProgressBar {
  readonly element: HTMLElement;
  /** fraction in 0..1; `text` is what a screen reader announces (aria-valuetext). */
  set(fraction: number, text: string, state?: 'running' | 'done' | 'failed' | 'cancelled' | 'pending'): void;
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
  return {
    element,
    set(fraction, text, state = 'running') {
      const percent = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
      element.setAttribute('aria-valuenow', String(percent));
      element.setAttribute('aria-valuetext', text);
      element.dataset.state = state;
      fill.style.width = `${percent}%`;
    },
  };
}
