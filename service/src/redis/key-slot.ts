// Redis Cluster's hash slot of a key (CRC16/XMODEM of the key, or of its {hash tag}, mod 16384),
// so the configuration can tell before start whether keys one atomic step writes together can
// live on one node.

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  TABLE[i] = crc & 0xffff;
}

/** The part of a key Redis Cluster hashes: the first non-empty {tag}, else the whole key. */
export function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close === -1 || close === open + 1 ? key : key.slice(open + 1, close);
}

export function keySlot(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(hashedPart(key)))
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
  return crc % 16384;
}
