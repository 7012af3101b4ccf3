import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, MetadataKind } from '@tufjs/models';
import type { Root, Snapshot, Targets, Timestamp } from '@tufjs/models';
import { captureCli } from '../helpers/run-cli.js';

// Runs `edgeseal …` in-process through the real dispatcher and captures what it prints.
export const edgeseal = (...argv: string[]): ReturnType<typeof captureCli> => captureCli(argv);

export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'edgeseal-repo-cli-'));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export async function writeImage(path: string, size: number, fill: number): Promise<Buffer> {
  const bytes = Buffer.alloc(size, fill);
  await writeFile(path, bytes);
  return bytes;
}

type Json = Parameters<typeof Metadata.fromJSON>[1];
const load = async (path: string): Promise<Json> => JSON.parse(await readFile(path, 'utf8')) as Json;

// Reads published metadata files back with @tufjs/models, the model every TUF client in JS uses.
export const readRoot = async (path: string): Promise<Metadata<Root>> => Metadata.fromJSON(MetadataKind.Root, await load(path));
export const readTargets = async (path: string): Promise<Metadata<Targets>> => Metadata.fromJSON(MetadataKind.Targets, await load(path));
export const readSnapshot = async (path: string): Promise<Metadata<Snapshot>> => Metadata.fromJSON(MetadataKind.Snapshot, await load(path));
export const readTimestamp = async (path: string): Promise<Metadata<Timestamp>> => Metadata.fromJSON(MetadataKind.Timestamp, await load(path));

export const TARGET_ARGS = ['--hardware-id', 'board-a', '--version', '1.0.0', '--security-version', '1', '--kind', 'firmware'];
