// server/dist/scanWorker.js: runs scanWorker.bundle.js beside it through the code cache (compileCache.ts).
import * as path from 'path';
import { runBundle } from './compileCache';

runBundle(path.join(__dirname, 'scanWorker.bundle.js'), module);
