#!/usr/bin/env node
// `npm run models:install [-- [--clip] DIR]`: fetches the packages the labels worker runs on from
// the npm registry (npm pack, each tarball checked against the sha512 pinned here) and keeps only
// the files the worker loads, with each package's licence, in DIR (default: models/ beside
// package.json); with --clip, CLIP's runtime too (onnxruntime-web, for clip_model_dir):
//   DIR/node_modules/<package>/{package.json, LICENSE, the kept files}
// so the worker resolves them with an ordinary require from DIR. An install that leaves labels
// off never runs this, and carries no model and no model runtime. Needs npm and tar, no compiler.
'use strict';
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join, resolve } = require('node:path');

/**
 * What the worker loads, package by package: `main` is what require() of the package gives, and
 * `keep` every file (or folder, less `exclude`) kept beside it (the WASM the backend reads, the model's weights), with the
 * package's LICENSE file where it has one. The TensorFlow.js packages ship none: their notice (Apache-2.0)
 * is the `@license` header at the top of each kept bundle.
 */
const PACKAGES = [
  {
    name: '@tensorflow/tfjs-core', version: '4.22.0', license: 'Apache-2.0', main: 'dist/tf-core.min.js',
    integrity: 'sha512-LEkOyzbknKFoWUwfkr59vSB68DMJ4cjwwHgicXN0DUi3a0Vh1Er3JQqCI1Hl86GGZQvY8ezVrtDIvqR1ZFW55A==',
    keep: ['dist/tf-core.min.js'],
  },
  {
    name: '@tensorflow/tfjs-converter', version: '4.22.0', license: 'Apache-2.0', main: 'dist/tf-converter.min.js',
    integrity: 'sha512-PT43MGlnzIo+YfbsjM79Lxk9lOq6uUwZuCc8rrp0hfpLjF6Jv8jS84u2jFb+WpUeuF4K33ZDNx8CjiYrGQ2trQ==',
    keep: ['dist/tf-converter.min.js'],
  },
  {
    name: '@tensorflow/tfjs-backend-wasm', version: '4.22.0', license: 'Apache-2.0', main: 'dist/tf-backend-wasm.min.js',
    integrity: 'sha512-/IYhReRIp4jg/wYW0OwbbJZG8ON87mbz0PgkiP3CdcACRSvUN0h8rvC0O3YcDtkTQtFWF/tcXq/KlVDyV49wmA==',
    // SIMD first; the plain build for a CPU without it. Never the threaded one: one thread only.
    keep: ['dist/tf-backend-wasm.min.js', 'dist/tfjs-backend-wasm-simd.wasm', 'dist/tfjs-backend-wasm.wasm'],
  },
  {
    // CLIP's runtime (where clip_model_dir is set): onnxruntime-web's Node entry, one thread, and
    // the one WebAssembly build it loads (SIMD; Pi 2 to 5 have it through NEON). MIT: the notice is
    // the header of each kept file; the package ships no LICENSE file.
    name: 'onnxruntime-web', version: '1.31.1', license: 'MIT', main: 'dist/ort.node.min.js', clip: true,
    integrity: 'sha512-5GeH+bWQ+HxM10z7erGlsWqryrwMbSvm/1tkIsKTT48g0fI19VXVVC435t4t7VsPdSQeS7NmuZPXrQ73k82URw==',
    keep: ['dist/ort.node.min.js', 'dist/ort-wasm-simd-threaded.mjs', 'dist/ort-wasm-simd-threaded.wasm'],
  },
  {
    // What ort.node.min.js requires: the tensor and session API, its CommonJS build only.
    name: 'onnxruntime-common', version: '1.31.1', license: 'MIT', main: 'dist/cjs/index.js', clip: true,
    integrity: 'sha512-F+nnYNiQtmNJ95V6R/isBJqiVpdANCrsMEg1OaF+Bkbl3GAtzWLR7Ng17Ld0QtYtYJyotOHPJzOQn1Y6PLZjpg==',
    keep: ['dist/cjs'], exclude: ['*.map', '*.d.ts'],
  },
  {
    // The COCO-80 CenterNet detector (MobileNetV3 CenterNet, converted to a TF.js graph model).
    name: '@vladmandic/human', version: '3.3.6', license: 'MIT', main: null, licenseFile: true,
    integrity: 'sha512-Nr5mPfq1gQ+uKeXY5uM3Fj8UxvF5CEh2s6txM5wRThqaW0mF9huooOuZSrT8hhGho0hGaXLFdAwfD/2+teCv6A==',
    keep: ['models/centernet.json', 'models/centernet.bin'],
  },
  {
    // The TF-Hub mobilenet_v2_140_224 feature vector, fine-tuned by nsfwjs on its own classes: the
    // content embedding (feature_vector/SpatialSqueeze). nsfwjs ships it as JS modules holding
    // the graph and the weights in base64; they are written out as a plain graph model.
    name: 'nsfwjs', version: '4.4.0', license: 'MIT', main: null, licenseFile: true,
    integrity: 'sha512-krC1fgeTLXtZwgdpKJ0jm7hqv0gTSRQQRL+FhOaxaJ9Wj92t42BO3csO2odwgTAgZgf2RvkwPtp0R8Aa7dc+MA==',
    keep: [],
    graphModel: {
      name: 'mobilenet_v2_mid',
      topology: 'dist/models/mobilenet_v2_mid/model.min.js',
      shards: ['dist/models/mobilenet_v2_mid/group1-shard1of2.min.js', 'dist/models/mobilenet_v2_mid/group1-shard2of2.min.js'],
    },
  },
];

/**
 * Writes a graph model that a package ships as JS modules (its topology as an object, each
 * weights shard as a base64 string) as `<name>.json` and one `<name>.bin` in `root`. The modules
 * are loaded only once their tarball's sha512 matched.
 */
function writeGraphModel(unpacked, root, model) {
  const topology = require(join(unpacked, 'package', model.topology));
  const weights = Buffer.concat(model.shards.map((shard) => Buffer.from(require(join(unpacked, 'package', shard)), 'base64')));
  const manifest = topology.weightsManifest.map((group, i) => ({ ...group, paths: i === 0 ? [`${model.name}.bin`] : [] }));
  writeFileSync(join(root, `${model.name}.json`), JSON.stringify({ ...topology, weightsManifest: manifest }));
  writeFileSync(join(root, `${model.name}.bin`), weights);
}

const args = process.argv.slice(2);
/** Whether CLIP's runtime is wanted too (--clip): only where clip_model_dir is set. */
const withClip = args.includes('--clip');
/** Where the models go: the argument that is not a flag, else models/ beside package.json. */
const target = resolve(args.find((arg) => !arg.startsWith('--')) ?? join(__dirname, '..', 'models'));
/** The packages this run installs. */
const WANTED = PACKAGES.filter((pkg) => withClip || !pkg.clip);

function sha512(file) {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** Whether `dir` already holds every package at its pinned version with every kept file. */
function installed(dir) {
  return WANTED.every((pkg) => {
    const root = join(dir, 'node_modules', pkg.name);
    try {
      const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
      const files = [...pkg.keep, ...(pkg.graphModel ? [`${pkg.graphModel.name}.json`, `${pkg.graphModel.name}.bin`] : [])];
      return manifest.version === pkg.version && files.every((file) => existsSync(join(root, file)));
    } catch {
      return false;
    }
  });
}

function install() {
  if (installed(target)) {
    console.log(`models: already installed in ${target}`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'models-install-'));
  // Staged beside the target, on its file system, so that the rename below cannot cross one.
  const staged = `${target}.new`;
  rmSync(staged, { recursive: true, force: true });
  try {
    for (const pkg of WANTED) {
      const spec = `${pkg.name}@${pkg.version}`;
      const tarball = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', work], { encoding: 'utf8' }).trim().split('\n').pop();
      const file = join(work, tarball);
      if (sha512(file) !== pkg.integrity) throw new Error(`${spec}: the tarball's sha512 is not the one pinned in ${__filename}`);
      const unpacked = join(work, 'unpacked', pkg.name);
      mkdirSync(unpacked, { recursive: true });
      // Only the files kept, and the licence.
      const files = [...pkg.keep, ...(pkg.licenseFile ? ['LICENSE'] : [])];
      const read = pkg.graphModel ? [pkg.graphModel.topology, ...pkg.graphModel.shards] : [];
      const excluded = (pkg.exclude ?? []).map((pattern) => `--exclude=${pattern}`);
      execFileSync('tar', ['xzf', file, '-C', unpacked, ...excluded, ...[...files, ...read].map((kept) => `package/${kept}`)]);
      const root = join(staged, 'node_modules', pkg.name);
      mkdirSync(root, { recursive: true });
      for (const kept of files) {
        mkdirSync(dirname(join(root, kept)), { recursive: true });
        cpSync(join(unpacked, 'package', kept), join(root, kept), { recursive: true });
      }
      if (pkg.graphModel) writeGraphModel(unpacked, root, pkg.graphModel);
      const manifest = { name: pkg.name, version: pkg.version, license: pkg.license, ...(pkg.main ? { main: pkg.main } : {}) };
      writeFileSync(join(root, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      rmSync(file);
    }
    // Swapped in whole, so a failed run never leaves half a models folder behind.
    rmSync(target, { recursive: true, force: true });
    renameSync(staged, target);
    console.log(`models: installed in ${target}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(staged, { recursive: true, force: true });
  }
}

install();
