/**
 * Malformed or forbidden XML. `condition` is the stream error condition the
 * connection sends before closing: `bad-format`, `restricted-xml` or `policy-violation`.
 */
export class XMLError extends Error {
  override name = 'XMLError';
  declare readonly condition: 'bad-format' | 'restricted-xml' | 'policy-violation';
  constructor(condition: XMLError['condition'], message: string) {
    super(message);
    this.condition = condition;
  }
}
