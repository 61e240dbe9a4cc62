// server/dist/server.js: runs server.bundle.js beside it through the code cache (compileCache.ts).
import * as path from 'path';
import { runBundle } from './compileCache';

runBundle(path.join(__dirname, 'server.bundle.js'), module);
