/**
 * A state handle names a file; a peer that lies about it must not make us read or delete
 * anything outside the job's checkpoint directory. On a filesystem that is core's check
 * (`..`, links); on an object store a key must lie under the job's prefix, with no `.` or
 * `..` segment, in the same bucket; with entropy injection the marker's place may hold
 * the random characters instead.
 */
import { isWithinDirectory } from '@weir/core';
import { isObjectStoreLocation } from './location';
import { parseS3Location, withoutEntropy } from './s3-location';
import { storageSettings } from './storage-for';

export function isWithinJobDirectory(jobDir: string, file: string): boolean {
  if (typeof file !== 'string' || file === '' || file.includes('\0')) return false;
  if (!isObjectStoreLocation(jobDir)) return !isObjectStoreLocation(file) && isWithinDirectory(jobDir, file);
  if (!isObjectStoreLocation(file)) return false;
  let dir: { bucket: string; key: string };
  let target: { bucket: string; key: string };
  try {
    dir = parseS3Location(jobDir);
    target = parseS3Location(file);
  } catch {
    return false; // `.` or `..` segments, no bucket
  }
  if (dir.bucket !== target.bucket) return false;
  const { entropyKey, entropyLength } = storageSettings().s3;
  const plain = `${withoutEntropy(dir.key, entropyKey)}/`;
  if (target.key.startsWith(plain) && target.key.length > plain.length) return true;
  if (!entropyKey || !dir.key.includes(entropyKey)) return false;
  const [before, after] = [dir.key.slice(0, dir.key.indexOf(entropyKey)), dir.key.slice(dir.key.indexOf(entropyKey) + entropyKey.length)];
  const pattern = new RegExp(`^${escape(before)}[a-z0-9]{${entropyLength}}${escape(after)}/.+`);
  return pattern.test(target.key);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
