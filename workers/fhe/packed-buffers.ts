/**
 * Ciphertext groups packed into one standalone ArrayBuffer so a task moves them to a worker with a single
 * transfer. gRPC hands us Buffers that may be views into larger pooled allocations, which must not be
 * transferred (that would detach memory other requests still use), so one copy here is the price of safety.
 */
export type PackedGroups = { buffer: ArrayBuffer; lengths: number[]; perGroup: number };

export function packGroups(groups: readonly (readonly Uint8Array[])[]): PackedGroups {
  const perGroup = groups[0]?.length ?? 0;
  const lengths = groups.flatMap((g) => g.map((c) => c.byteLength));
  const buffer = new ArrayBuffer(lengths.reduce((a, b) => a + b, 0));
  const bytes = new Uint8Array(buffer);
  let offset = 0;
  for (const group of groups) {
    for (const c of group) {
      bytes.set(c, offset);
      offset += c.byteLength;
    }
  }
  return { buffer, lengths, perGroup };
}

export function unpackGroups(packed: PackedGroups): Uint8Array[][] {
  const groups: Uint8Array[][] = [];
  let offset = 0;
  for (let i = 0; i < packed.lengths.length; i += packed.perGroup) {
    const group: Uint8Array[] = [];
    for (let j = 0; j < packed.perGroup; j++) {
      const length = packed.lengths[i + j]!;
      group.push(new Uint8Array(packed.buffer, offset, length));
      offset += length;
    }
    groups.push(group);
  }
  return groups;
}
