// Installs the VS Code build the editor end-to-end test drives (code-server, pinned in ./codeServer/package-lock.json)
// into node_modules/.cache/forksafe-code-server, offline but for the npm registry. Idempotent: a stamp records what was installed.
//
// Why not a devDependency of forksafe: code-server's postinstall refuses any Node major but 20, builds native modules
// (kerberos needs Debian's libkrb5-dev) and @vscode/ripgrep's postinstall downloads rg from GitHub. As a devDependency
// that would break `npm install` for every user on Node 22+ or without those packages.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const spec = path.join(here, 'codeServer');
const installDir = path.join(root, 'node_modules', '.cache', 'forksafe-code-server');
const stampFile = path.join(installDir, 'forksafe-stamp.json');

// @vscode/ripgrep as pinned by code-server 4.100.3's lib/vscode/npm-shrinkwrap.json, and the asset its postinstall.js fetches.
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

function fail(message) {
  process.stderr.write(`installCodeServer: ${message}\n`);
  process.exit(1);
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const wanted = {
  lock: createHash('sha256').update(readFileSync(path.join(spec, 'package-lock.json'))).digest('hex'),
  node: process.versions.node.split('.')[0],
};
if (existsSync(stampFile)) {
  const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  if (stamp.lock === wanted.lock && stamp.node === wanted.node && existsSync(path.join(installDir, 'node_modules', '.bin', 'code-server'))) {
    process.stdout.write(`installCodeServer: code-server already installed in ${installDir}\n`);
    process.exit(0);
  }
}

if (wanted.node !== '20') {
  fail(`code-server 4.100.3 (the newest that runs on Node 20) refuses Node ${process.versions.node} in its postinstall ("code-server currently requires node v20"). ` +
    'Newer code-server releases need Node 22 or 24. Run the editor e2e test with Node 20.');
}
if (os.platform() !== 'linux' || os.arch() !== 'x64') fail(`the ripgrep workaround below is written for linux-x64, not ${os.platform()}-${os.arch()}`);
const rg = which('rg');
if (!rg) fail('ripgrep is missing: `apt-get install -y ripgrep` (code-server\'s @vscode/ripgrep would download it from GitHub, which this machine cannot reach)');
if (!existsSync('/usr/include/gssapi/gssapi.h')) fail('kerberos (a native module of VS Code) needs Debian\'s libkrb5-dev: `apt-get install -y libkrb5-dev`');

// @vscode/ripgrep's postinstall uses a cached asset in $TMPDIR/vscode-ripgrep-cache-<version>/ before downloading:
// seed that cache with a tarball of Debian's rg, in a private TMPDIR so nothing else is affected.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'forksafe-cs-install-'));
try {
  const cache = path.join(tmp, `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  const staging = path.join(tmp, 'rg');
  mkdirSync(cache, { recursive: true });
  mkdirSync(staging);
  copyFileSync(rg, path.join(staging, 'rg'));
  const tar = spawnSync('tar', ['czf', path.join(cache, RIPGREP_ASSET), '-C', staging, 'rg'], { stdio: 'inherit' });
  if (tar.status !== 0) fail('could not make the ripgrep tarball');

  rmSync(installDir, { recursive: true, force: true });
  mkdirSync(installDir, { recursive: true });
  copyFileSync(path.join(spec, 'package.json'), path.join(installDir, 'package.json'));
  copyFileSync(path.join(spec, 'package-lock.json'), path.join(installDir, 'package-lock.json'));
  const env = {
    ...process.env,
    TMPDIR: tmp,
    // code-server's postinstall checks this under root, and runs `npm install` in lib/vscode and lib/vscode/extensions.
    npm_config_unsafe_perm: 'true',
    // node-pty's postinstall runs `npx node-gyp`, which needs a yes to fetch node-gyp from the npm registry without a TTY.
    npm_config_yes: 'true',
    // argon2 and kerberos would first try prebuilt binaries from GitHub: build them from source straight away.
    npm_config_build_from_source: 'true',
  };
  process.stdout.write(`installCodeServer: installing code-server into ${installDir} (native modules are compiled; about a minute)\n`);
  const npm = spawnSync('npm', ['ci', '--foreground-scripts', '--no-audit', '--no-fund'], { cwd: installDir, env, stdio: 'inherit' });
  if (npm.status !== 0) fail(`npm ci of code-server failed (exit ${npm.status}); see the output above`);

  const rgInstalled = path.join(installDir, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep');
  const rgVersion = JSON.parse(readFileSync(path.join(rgInstalled, 'package.json'), 'utf8')).version;
  if (rgVersion !== RIPGREP_PACKAGE_VERSION || !existsSync(path.join(rgInstalled, 'bin', 'rg'))) {
    fail(`code-server now pins @vscode/ripgrep ${rgVersion}; update RIPGREP_PACKAGE_VERSION and RIPGREP_ASSET in ${path.relative(root, fileURLToPath(import.meta.url))}`);
  }
  const version = spawnSync(path.join(installDir, 'node_modules', '.bin', 'code-server'), ['--version'], {
    encoding: 'utf8', env: { ...process.env, XDG_CONFIG_HOME: tmp, XDG_DATA_HOME: tmp },
  });
  if (version.status !== 0) fail(`code-server --version failed:\n${version.stdout}\n${version.stderr}`);
  process.stdout.write(`installCodeServer: ${version.stdout.trim().split('\n').pop()}\n`);
  writeFileSync(stampFile, JSON.stringify(wanted));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
