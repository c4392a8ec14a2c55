// Who may open a push connection (SPEC 3.3, 5): the Origin rule for browsers and the
// token rule for `*`. Engine-neutral, so every transport applies the same policy.
/**
 * A request with an Origin (a browser) must come from the server's own origin or an
 * allowed one. A token that is given must be right; without one, single jobs may
 * still be watched (their id is the capability) but `*` may not.
 */
export function checkDoor(req, url, policy) {
    const origin = req.headers.origin;
    if (origin !== undefined && !isSameOrigin(origin, req.headers.host) && !policy.allowedOrigins.includes(origin)) {
        return { ok: false, reason: 'origin not allowed' };
    }
    if (!policy.hasToken)
        return { ok: true, mayWatchAll: true };
    const isGiven = url.searchParams.has('token') || req.headers.authorization !== undefined;
    if (!isGiven)
        return { ok: true, mayWatchAll: false };
    return policy.isAuthorized(req, url) ? { ok: true, mayWatchAll: true } : { ok: false, reason: 'wrong token' };
}
function isSameOrigin(origin, host) {
    try {
        return host !== undefined && new URL(origin).host === host;
    }
    catch {
        return false;
    }
}
//# sourceMappingURL=door.js.map