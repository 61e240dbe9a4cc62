// server/dist/cli.js: runs cli.bundle.js beside it through the code cache (compileCache.ts).
import * as path from 'path';
import { runBundle } from './compileCache';

runBundle(path.join(__dirname, 'cli.bundle.js'), module);
