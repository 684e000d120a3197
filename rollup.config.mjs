// The browser bundles of @xmppkit/client: a minified IIFE that sets globalThis.xmppkit, and an ESM twin.
// Built from the compiled packages (pnpm build) with the `browser` export conditions, so neither
// `ws` nor any `node:` module can be reached.
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const plugins = [
  nodeResolve({ browser: true, preferBuiltins: false, exportConditions: ['browser', 'import', 'default'] }),
  commonjs(),
  {
    name: 'no-node-builtins',
    resolveId(id) {
      if (id.startsWith('node:') || id === 'ws') throw new Error(`the browser bundle must not import ${id}`);
      return null;
    },
  },
];

// pure_getters: our getters have no side effects, so an unused read may go; three passes find a little more.
const compress = { passes: 3, pure_getters: true };
const minify = terser({ ecma: 2020, module: false, compress, format: { comments: false } });

export default {
  input: 'packages/client/dist/index.js',
  plugins,
  output: [
    { file: 'packages/client/dist/xmppkit.min.js', format: 'iife', name: 'xmppkit', plugins: [minify], sourcemap: true },
    { file: 'packages/client/dist/xmppkit.min.mjs', format: 'es', plugins: [terser({ ecma: 2020, module: true, compress, format: { comments: false } })], sourcemap: true },
  ],
};
