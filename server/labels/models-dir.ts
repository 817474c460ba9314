import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readProcFields } from '../proc-fields';
import type { Settings } from '../settings';

/**
 * Where `npm run models:install` puts the models and their runtime: models/ beside package.json
 * (compiled to dist/server/labels/, so three up). Not a setting: the installer and the daemon
 * agree on it, and an install without labels has no such folder.
 */
export const MODELS_DIR = join(__dirname, '..', '..', '..', 'models');

/** The detector's graph and weights in the models folder, without the .json / .bin. */
export const DETECTOR_MODEL = 'node_modules/@vladmandic/human/models/centernet';

/** The content embedding (nsfwjs's MobileNetV2 written out as a graph model), without the .json / .bin. */
export const EMBEDDING_MODEL = 'node_modules/nsfwjs/mobilenet_v2_mid';

/** The backend's WebAssembly in the models folder. */
export const WASM_DIR = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';

/**
 * A "1 GB" machine, in MemTotal: a 1 GB Pi reports about 900 MiB once the GPU's share is taken,
 * a 512 MB one about 430 MiB.
 */
export const ONE_GB_MEM_TOTAL = 768 * 1024 * 1024;

/** True when the folder holds the detector (the runtime comes with it). */
export function modelsInstalled(dir: string): boolean {
  return existsSync(join(dir, `${DETECTOR_MODEL}.json`)) && existsSync(join(dir, `${DETECTOR_MODEL}.bin`));
}

/**
 * Whether this machine should label images: `on` and `off` say so; `auto` is on where the machine
 * has 1 GB or more (the worker holds about 150 MB while it works). install.sh asks this to decide
 * whether to install the models.
 */
export function labelsWanted(settings: Pick<Settings, 'labels'>, memTotal = readProcFields('/proc/meminfo').MemTotal): boolean {
  if (settings.labels !== 'auto') return settings.labels === 'on';
  return memTotal !== undefined && memTotal >= ONE_GB_MEM_TOTAL;
}

/**
 * Whether images are labelled: as {@link labelsWanted}, and for `auto` only once the models are
 * installed (`on` without them reports the missing folder).
 */
export function labelsEnabled(settings: Pick<Settings, 'labels'>, dir: string, memTotal = readProcFields('/proc/meminfo').MemTotal): boolean {
  return labelsWanted(settings, memTotal) && (settings.labels === 'on' || modelsInstalled(dir));
}

/** onnxruntime-web's WebAssembly in the models folder (CLIP, clip-model.ts). */
export const ORT_WASM_DIR = 'node_modules/onnxruntime-web/dist';

/** True when the models folder holds onnxruntime-web, which CLIP runs on. */
export function clipRuntimeInstalled(dir: string): boolean {
  return existsSync(join(dir, 'node_modules/onnxruntime-web/package.json'));
}
