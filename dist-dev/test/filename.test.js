import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanFilename } from '../server/http/filename.js';
const times = (count, make) => Array.from({ length: count }, (_, i) => make(i));
test('cleanFilename', () => {
    const table = [
        { what: 'plain', input: 'report.pdf', expected: 'report.pdf' },
        { what: 'empty', input: '', expected: '' },
        { what: 'NUL', input: 'a\u0000b', expected: 'ab' },
        { what: 'every C0 control and DEL', input: times(32, (i) => String.fromCharCode(i)).join('') + 'x\u007f', expected: 'x' },
        { what: 'C1 control kept', input: 'a\u0085b', expected: 'a\u0085b' },
        { what: 'space and punctuation kept', input: ' a b "c" <d> ', expected: ' a b "c" <d> ' },
        { what: 'relative path kept', input: '../../etc/passwd', expected: '../../etc/passwd' },
        { what: 'folder path kept', input: 'a/b/c.txt', expected: 'a/b/c.txt' },
        { what: 'Windows path kept', input: 'C:\\x\\y', expected: 'C:\\x\\y' },
        { what: '255 ASCII bytes kept', input: 'a'.repeat(255), expected: 'a'.repeat(255) },
        { what: '256 ASCII bytes cut', input: 'a'.repeat(256), expected: 'a'.repeat(255) },
        { what: '2-byte chars cut before a split', input: 'é'.repeat(150), expected: 'é'.repeat(127) },
        { what: '2-byte chars ending exactly at 255', input: 'a' + 'é'.repeat(150), expected: 'a' + 'é'.repeat(127) },
        { what: '3-byte chars', input: '漢'.repeat(100), expected: '漢'.repeat(85) },
        { what: 'surrogate pairs never split', input: '😀'.repeat(64), expected: '😀'.repeat(63) },
        { what: 'surrogate pairs after an offset', input: 'ab' + '😀'.repeat(64), expected: 'ab' + '😀'.repeat(63) },
        { what: 'mixed widths', input: 'a' + 'é漢😀'.repeat(30), expected: 'a' + 'é漢😀'.repeat(28) + 'é' },
        { what: 'controls removed before cutting', input: '\u0001'.repeat(50) + 'b'.repeat(255), expected: 'b'.repeat(255) },
    ];
    for (const { what, input, expected } of table) {
        const actual = cleanFilename(input);
        assert.equal(actual, expected, what);
        assert.ok(Buffer.byteLength(actual) <= 255, what);
    }
});
//# sourceMappingURL=filename.test.js.map