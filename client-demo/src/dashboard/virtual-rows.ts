// Renders only the rows near the window's visible part of a long list: the body gets the
// height of every row, and the few rows in view (plus some either side, so that Tab and
// fast scrolling find rows ready) are placed at their offsets. Rows leaving the view are
// recycled. The DOM order follows the list order, so Tab walks the rows in order, and a
// row holding the keyboard focus is kept even when scrolled away.

/** A row the list can place: its element, and how to show a job in it. */
export interface VirtualRow {
  readonly element: HTMLElement;
  update(id: string): void;
}

/** Rows rendered beyond each edge of the window. */
const OVERSCAN = 6;

export class VirtualRows<Row extends VirtualRow> {
  private ids: readonly string[] = [];
  private readonly rendered = new Map<string, { row: Row; index: number }>();
  private readonly spare: Row[] = [];
  private rowHeightPx = 0;

  constructor(
    private readonly body: HTMLElement,
    private readonly createRow: () => Row,
  ) {}

  /** The list to show, in order (the same array when nothing moved). */
  setIds(ids: readonly string[]): void {
    this.ids = ids;
  }

  /** Reads the row height from the CSS (`--row-height` on the body), after a resize. */
  measure(): void {
    this.rowHeightPx = parseFloat(getComputedStyle(this.body).getPropertyValue('--row-height')) || 64;
  }

  /**
   * Places the rows in view and updates those whose job is in `changed` (or every row in
   * view when `changed` is 'all'). Reads the layout once, first, then only writes.
   */
  render(changed: ReadonlySet<string> | 'all'): void {
    if (this.rowHeightPx === 0) this.measure();
    const height = this.rowHeightPx;
    const top = this.body.getBoundingClientRect().top;
    const first = Math.max(0, Math.floor(-top / height) - OVERSCAN);
    const last = Math.min(this.ids.length, Math.ceil((window.innerHeight - top) / height) + OVERSCAN);
    const wanted = new Map<string, number>();
    for (let i = first; i < last; i++) wanted.set(this.ids[i]!, i);
    const focused = this.focusedId();
    if (focused !== null && !wanted.has(focused)) {
      const index = this.ids.indexOf(focused);
      if (index >= 0) wanted.set(focused, index);
    }
    for (const [id, { row }] of this.rendered) {
      if (wanted.has(id)) continue;
      row.element.remove();
      this.rendered.delete(id);
      this.spare.push(row);
    }
    const placed: Array<{ row: Row; index: number }> = [];
    for (const [id, index] of wanted) {
      let entry = this.rendered.get(id);
      const isNew = entry === undefined;
      if (entry === undefined) {
        entry = { row: this.spare.pop() ?? this.createRow(), index: -1 };
        this.rendered.set(id, entry);
      }
      if (isNew || changed === 'all' || changed.has(id)) entry.row.update(id);
      if (entry.index !== index) {
        entry.index = index;
        entry.row.element.style.transform = `translateY(${index * height}px)`;
        // +2: the header is row 1 (aria-rowindex counts from 1).
        entry.row.element.setAttribute('aria-rowindex', String(index + 2));
      }
      placed.push(entry);
    }
    const bodyHeight = `${this.ids.length * height}px`;
    if (this.body.style.height !== bodyHeight) this.body.style.height = bodyHeight;
    this.order(placed.sort((a, b) => a.index - b.index).map((p) => p.row.element));
  }

  /** The id of the row rendered for `element` (an element inside a row), or null. */
  idOf(element: Element): string | null {
    for (const [id, { row }] of this.rendered) if (row.element.contains(element)) return id;
    return null;
  }

  /** The rendered row of a job, if it is in view. */
  rowOf(id: string): Row | undefined {
    return this.rendered.get(id)?.row;
  }

  private focusedId(): string | null {
    const active = document.activeElement;
    return active !== null && this.body.contains(active) ? this.idOf(active) : null;
  }

  /** Puts the elements in this order, moving only those out of place; the focus stays where it was. */
  private order(elements: HTMLElement[]): void {
    const active = document.activeElement as HTMLElement | null;
    let cursor = this.body.firstElementChild;
    for (const element of elements) {
      if (element === cursor) {
        cursor = cursor.nextElementSibling;
        continue;
      }
      this.body.insertBefore(element, cursor);
    }
    if (active !== null && active !== document.activeElement && active.isConnected) active.focus({ preventScroll: true });
  }
}
