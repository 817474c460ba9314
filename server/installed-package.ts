import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What package.json says of the installed daemon. */
export interface InstalledPackage {
  name: string;
  version: string;
  homepage?: string;
}

let installed: InstalledPackage | undefined;

/**
 * The daemon's name, version and (when it has one) homepage, from the package.json that ships
 * beside dist/ (scripts/runtime-files.txt); read once. A missing or unreadable file gives
 * version "unknown", so a metric or an announcement never stops the daemon.
 */
export function installedPackage(): InstalledPackage {
  if (!installed) {
    try {
      // Compiled to dist/server/: the package root is two up.
      const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as Partial<InstalledPackage>;
      installed = {
        name: typeof pkg.name === 'string' ? pkg.name : 'pi-image-receiver',
        version: typeof pkg.version === 'string' ? pkg.version : 'unknown',
        ...(typeof pkg.homepage === 'string' ? { homepage: pkg.homepage } : {}),
      };
    } catch {
      installed = { name: 'pi-image-receiver', version: 'unknown' };
    }
  }
  return installed;
}
