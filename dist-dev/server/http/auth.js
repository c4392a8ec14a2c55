// --token: compared in constant time, from `Authorization: Bearer` or `?token=`.
import { createHash, timingSafeEqual } from 'node:crypto';
import { JobcastError } from '../errors.js';
export function createTokenCheck(token) {
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    const expected = token === null ? null : digest(token);
    const isAuthorized = (req, url) => {
        if (expected === null)
            return true;
        const header = req.headers.authorization;
        const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : url.searchParams.get('token');
        return typeof given === 'string' && timingSafeEqual(digest(given), expected);
    };
    return {
        hasToken: expected !== null,
        isAuthorized,
        require(req, url) {
            if (!isAuthorized(req, url))
                throw new JobcastError('unauthorized');
        },
    };
}
function digest(text) {
    return createHash('sha256').update(text).digest();
}
//# sourceMappingURL=auth.js.map