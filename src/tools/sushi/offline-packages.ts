import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

/**
 * A FHIR package cache folder (`<name>#<version>/package/*.json`) read the way
 * fhir-package-loader reads `~/.fhir/packages`, but at a path of our choosing and without ever
 * adding to it: nothing is downloaded offline.
 */
export class LocalPackageCache {
  /** @param cacheDir - the folder holding `<name>#<version>` package folders. */
  constructor(readonly cacheDir: string) {}

  private packageDir(name: string, version: string): string {
    return path.resolve(this.cacheDir, `${name}#${version}`);
  }

  /** Refuses: an offline build never receives tarballs (the tarball argument is ignored). */
  cachePackageTarball(name: string, version: string): Promise<string> {
    return Promise.reject(new Error(`offline: will not cache a download of ${name}#${version}`));
  }

  /** True when `<name>#<version>` exists in the cache. */
  isPackageInCache(name: string, version: string): boolean {
    return fs.existsSync(this.packageDir(name, version));
  }

  /** The package folder, when cached. */
  getPackagePath(name: string, version: string): string | undefined {
    return this.isPackageInCache(name, version) ? this.packageDir(name, version) : undefined;
  }

  /** `package/package.json` of the package, when present. */
  getPackageJSONPath(name: string, version: string): string | undefined {
    const file = path.join(this.packageDir(name, version), 'package', 'package.json');
    return fs.existsSync(file) ? file : undefined;
  }

  /** Every non-hidden JSON file of `package/`, sorted so that loading order is stable. */
  getPotentialResourcePaths(name: string, version: string): string[] {
    const dir = path.join(this.packageDir(name, version), 'package');
    if (!fs.existsSync(dir)) {
      return [];
    }
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile() && /^[^.].*\.json$/i.test(entry.name))
      .map((entry) => path.join(dir, entry.name))
      .sort();
  }

  /** Parses one JSON resource file. */
  getResourceAtPath(resourcePath: string): unknown {
    return JSON.parse(fs.readFileSync(resourcePath, 'utf8'));
  }
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const diff = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (diff !== 0) {
      return diff;
    }
  }
  return 0;
}

/**
 * A package registry that never touches the network: `latest` resolves to the highest version
 * in the local cache, concrete versions resolve to themselves, and downloads fail at once.
 */
export class OfflineRegistry {
  /** @param cacheDir - the folder holding `<name>#<version>` package folders. */
  constructor(readonly cacheDir: string) {}

  /** Resolves `latest` from the cache; rejects when the cache has no version of the package. */
  resolveVersion(name: string, version: string): Promise<string> {
    if (version !== 'latest') {
      return Promise.resolve(version);
    }
    const prefix = `${name}#`;
    const cached = fs.existsSync(this.cacheDir)
      ? fs
          .readdirSync(this.cacheDir)
          .filter((dir) => dir.startsWith(prefix))
          .map((dir) => dir.slice(prefix.length))
      : [];
    const latest = cached.sort(compareVersions).at(-1);
    return latest
      ? Promise.resolve(latest)
      : Promise.reject(new Error(`offline: no cached version of ${name} in ${this.cacheDir}`));
  }

  /** Always rejects: an offline build has no registry. */
  download(name: string, version: string): Promise<Readable> {
    return Promise.reject(
      new Error(
        `offline: ${name}#${version} is not in ${this.cacheDir}; run npx tsx src/tools/build-r4-core.ts`
      )
    );
  }
}
