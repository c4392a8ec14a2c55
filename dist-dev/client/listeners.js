// A set of callbacks that are called safely: a listener that throws neither stops the
// other listeners nor unwinds into the socket callback that is delivering a message
// (the SDK's state would be left half updated). The error is rethrown on a fresh
// task, where it surfaces as an uncaught error, the way a browser reports an
// exception thrown by an event listener.
/** Callbacks taking `Args`, called in the order they were added. */
export class Listeners {
    set = new Set();
    /** How many listeners there are. */
    get size() {
        return this.set.size;
    }
    /** Adds `listener`; returns a function that removes it (safe to call twice). */
    add(listener) {
        // Wrapped, so that adding the same function twice gives two independent registrations.
        const entry = (...args) => listener(...args);
        this.set.add(entry);
        return () => void this.set.delete(entry);
    }
    /** Calls every listener with `args`. Never throws. */
    emit(...args) {
        for (const listener of [...this.set])
            callSafely(listener, args);
    }
    /** Removes every listener. */
    clear() {
        this.set.clear();
    }
}
/** Calls `fn(...args)`; a throw is reported on a fresh task instead of unwinding the caller. */
export function callSafely(fn, args) {
    try {
        fn(...args);
    }
    catch (err) {
        setTimeout(() => {
            throw err;
        }, 0);
    }
}
//# sourceMappingURL=listeners.js.map