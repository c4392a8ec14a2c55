// The text fields of an upload (SPEC 2.1): which ones count, and how each is checked.
import { JobcastError } from '../errors.js';
/** Longest `label`, in characters (code points), per SPEC 2.1. */
export const MAX_LABEL_CHARS = 200;
/** The text fields of SPEC 2.1; any other is ignored. */
export const UPLOAD_FIELDS = new Set(['processor', 'label', 'options', 'failFast']);
/**
 * Checks one known field and stores it in `fields`; returns the error it deserves, if any.
 * An empty value counts as absent: HTML forms send inputs left empty as "".
 */
export function applyField(fields, name, value, isProcessor) {
    if (value === '')
        return null;
    switch (name) {
        case 'processor':
            if (!isProcessor(value)) {
                return new JobcastError('unknown_processor', `no processor named ${JSON.stringify(value.slice(0, 100))} is registered`);
            }
            fields.processor = value;
            return null;
        case 'label':
            // Characters, not UTF-16 units: an emoji is one character of the 200.
            if (value.length > MAX_LABEL_CHARS && Array.from(value).length > MAX_LABEL_CHARS) {
                return new JobcastError('invalid_field', `'label' is longer than ${MAX_LABEL_CHARS} characters`);
            }
            fields.label = value;
            return null;
        case 'options': {
            let parsed;
            try {
                parsed = JSON.parse(value);
            }
            catch {
                return new JobcastError('invalid_field', `'options' must be a JSON object; it is not JSON`);
            }
            if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
                return new JobcastError('invalid_field', `'options' must be a JSON object, got ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed}`);
            }
            fields.options = parsed;
            return null;
        }
        default:
            if (value !== 'true' && value !== 'false') {
                return new JobcastError('invalid_field', `'failFast' must be true or false, got ${JSON.stringify(value.slice(0, 20))}`);
            }
            fields.failFast = value === 'true';
            return null;
    }
}
//# sourceMappingURL=upload-fields.js.map