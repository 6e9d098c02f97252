// An S3 store for fauxqs that keeps every bucket and object in a directory, so a local twin started
// with a data directory finds its objects again after a restart. Objects are plain files under
// <dir>/<bucket>/<key> (easy to look at with ls and zcat); metadata lives under <dir>/.meta/.
// Writes are synchronous because fauxqs calls the store synchronously; this is a development store.
// In-progress multipart uploads are kept in memory only.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

const META = '.meta';

export async function createPersistentS3Store(root) {
  const appUrl = import.meta.resolve('fauxqs');
  const { S3Store } = await import(new URL('./s3/s3Store.js', appUrl).href);

  const keyId = (key) => createHash('sha256').update(key).digest('hex').slice(0, 40);
  const metaDir = (bucket) => join(root, META, bucket);
  const metaPath = (bucket, key) => join(metaDir(bucket), `${keyId(key)}.json`);

  // A key maps to a readable path when every segment is a plain name; others are stored by hash.
  function bodyPath(bucket, key) {
    const segments = key.split('/');
    const plain = segments.every(
      (s) => s !== '' && s !== '.' && s !== '..' && !s.includes(sep) && !s.includes('\0'),
    );
    return plain && bucket !== META
      ? join(root, bucket, ...segments)
      : join(metaDir(bucket), `${keyId(key)}.body`);
  }

  function atomicWrite(path, data) {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  }

  function persistObject(bucket, obj) {
    let file = bodyPath(bucket, obj.key);
    try {
      atomicWrite(file, obj.body);
    } catch {
      // A key that is also a "directory" of other keys (a and a/b) cannot be a plain file.
      file = join(metaDir(bucket), `${keyId(obj.key)}.body`);
      atomicWrite(file, obj.body);
    }
    const meta = {
      key: obj.key,
      file,
      contentType: obj.contentType,
      etag: obj.etag,
      lastModified: obj.lastModified.toISOString(),
      metadata: obj.metadata,
    };
    atomicWrite(metaPath(bucket, obj.key), JSON.stringify(meta));
  }

  function forgetObject(bucket, key) {
    const path = metaPath(bucket, key);
    if (!existsSync(path)) return;
    const meta = JSON.parse(readFileSync(path, 'utf8'));
    rmSync(meta.file, { force: true });
    rmSync(path, { force: true });
  }

  class PersistentS3Store extends S3Store {
    createBucket(name) {
      super.createBucket(name);
      mkdirSync(metaDir(name), { recursive: true });
      mkdirSync(join(root, name), { recursive: true });
    }
    deleteBucket(name) {
      super.deleteBucket(name);
      rmSync(metaDir(name), { recursive: true, force: true });
      rmSync(join(root, name), { recursive: true, force: true });
    }
    putObject(bucket, key, body, contentType, metadata) {
      const obj = super.putObject(bucket, key, body, contentType, metadata);
      persistObject(bucket, obj);
      return obj;
    }
    completeMultipartUpload(uploadId, partSpecs) {
      const bucket = this.multipartUploads.get(uploadId)?.bucket;
      const obj = super.completeMultipartUpload(uploadId, partSpecs);
      if (bucket !== undefined) persistObject(bucket, obj);
      return obj;
    }
    deleteObject(bucket, key) {
      super.deleteObject(bucket, key);
      forgetObject(bucket, key);
    }
    emptyBucket(name) {
      const had = this.buckets.get(name);
      const keys = had ? [...had.keys()] : [];
      super.emptyBucket(name);
      for (const key of keys) forgetObject(name, key);
    }
    clearObjects() {
      const all = [...this.buckets].map(([bucket, objects]) => [bucket, [...objects.keys()]]);
      super.clearObjects();
      for (const [bucket, keys] of all) for (const key of keys) forgetObject(bucket, key);
    }
    purgeAll() {
      super.purgeAll();
      rmSync(root, { recursive: true, force: true });
      mkdirSync(root, { recursive: true });
    }
  }

  const store = new PersistentS3Store();
  mkdirSync(join(root, META), { recursive: true });
  for (const bucket of readdirSync(join(root, META))) {
    S3Store.prototype.createBucket.call(store, bucket);
    const objects = store.buckets.get(bucket);
    for (const entry of readdirSync(metaDir(bucket))) {
      if (!entry.endsWith('.json')) continue;
      const meta = JSON.parse(readFileSync(join(metaDir(bucket), entry), 'utf8'));
      const body = readFileSync(meta.file);
      objects.set(meta.key, {
        key: meta.key,
        body,
        contentType: meta.contentType,
        contentLength: body.length,
        etag: meta.etag,
        lastModified: new Date(meta.lastModified),
        metadata: meta.metadata ?? {},
      });
    }
  }
  return store;
}
