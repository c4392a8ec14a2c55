// The visible connection state: live, reconnecting, resumed (announced politely to screen readers).

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'closed';

export function renderConnection(element: HTMLElement, state: ConnectionState, detail: { attempt: number; resumed: boolean }): void {
  const label =
    state === 'live' ? (detail.resumed ? 'live (resumed)' : 'live') : state === 'reconnecting' ? `reconnecting (attempt ${detail.attempt})` : state;
  element.textContent = label;
  element.dataset.state = state === 'live' && detail.resumed ? 'resumed' : state;
}
