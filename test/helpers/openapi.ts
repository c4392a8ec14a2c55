// Checks real responses and frames against the server's own /openapi.json with ajv
// (JSON Schema 2020-12, the dialect of OpenAPI 3.1).

import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';

type Doc = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, unknown> };
};

export class ApiContract {
  readonly doc: Doc;
  readonly #ajv: Ajv2020;
  /** `METHOD path status` of every response checked, to tell which ones the tests covered. */
  readonly checked = new Set<string>();

  constructor(doc: unknown) {
    this.doc = doc as Doc;
    // strict off: the document carries OpenAPI keys (openapi, paths, x-...) around the schemas.
    this.#ajv = new Ajv2020({ strict: false, allErrors: true });
    this.#ajv.addSchema(doc as object, 'openapi.json');
  }

  static async load(baseUrl: string): Promise<ApiContract> {
    const res = await fetch(`${baseUrl}/openapi.json`);
    assert.equal(res.status, 200);
    return new ApiContract(await res.json());
  }

  /** Asserts that `value` is valid against components.schemas[name]. */
  assertSchema(name: string, value: unknown, what = name): void {
    this.#assertPointer(`#/components/schemas/${name}`, value, what);
  }

  /**
   * Asserts that the document describes this response of `method path` (a path template
   * like /jobs/{id}) and, for a JSON body, that the body validates.
   */
  async assertResponse(method: string, path: string, res: Response): Promise<void> {
    const operation = this.doc.paths[path]?.[method.toLowerCase()];
    assert.ok(operation !== undefined, `the document has ${method} ${path}`);
    const status = String(res.status);
    const response = operation.responses[status];
    assert.ok(response !== undefined, `${method} ${path} documents status ${status}`);
    this.checked.add(`${method} ${path} ${status}`);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (response.content === undefined) return;
    assert.ok(type in response.content, `${method} ${path} ${status} documents ${type} (has ${Object.keys(response.content).join(', ')})`);
    // A HEAD answer has the head of the GET it stands for, and no body to validate.
    if (type !== 'application/json' || method === 'HEAD') return;
    const pointer = `#/paths/${escape(path)}/${method.toLowerCase()}/responses/${status}/content/${escape(type)}/schema`;
    this.#assertPointer(pointer, await res.clone().json(), `${method} ${path} ${status}`);
  }

  #assertPointer(pointer: string, value: unknown, what: string): void {
    const validate = this.#ajv.getSchema(`openapi.json${pointer}`);
    assert.ok(validate !== undefined, `no schema at ${pointer}`);
    if (!validate(value)) {
      assert.fail(`${what} does not match the document: ${this.#ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 600)}`);
    }
  }
}

/** A JSON pointer segment: `/` -> `~1`, `~` -> `~0`, then URI-encoded for the fragment. */
function escape(segment: string): string {
  return encodeURIComponent(segment.replaceAll('~', '~0').replaceAll('/', '~1'));
}
