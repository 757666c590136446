// AIS position reports (ITU-R M.1371 message 1) and names (message 24
// part A) as NMEA 0183 !AIVDM sentences, for feeding a node's AIS engine
// live in the benchmarks and the vessel tests. (The
// repo's `trilat ais synth` writes a whole day at once, with tag-block
// times; a live feed of 10,000 vessels a second needs the lines made as
// they are sent, stamped by the node on arrival.)

function bits(fields) {
  let out = '';
  for (const [value, width] of fields) {
    const v = BigInt.asUintN(width, BigInt(Math.trunc(value)));
    out += v.toString(2).padStart(width, '0');
  }
  return out;
}

function armor(bitString) {
  let payload = '';
  for (let i = 0; i < bitString.length; i += 6) {
    const v = parseInt(bitString.slice(i, i + 6).padEnd(6, '0'), 2);
    payload += String.fromCharCode(v < 40 ? v + 48 : v + 56);
  }
  return payload;
}

function checksum(body) {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x.toString(16).toUpperCase().padStart(2, '0');
}

/** A sentence of `bitString`, armoured, with its fill bits and checksum. */
function sentence(bitString) {
  const fill = (6 - (bitString.length % 6)) % 6;
  const body = `AIVDM,1,1,,A,${armor(bitString)},${fill}`;
  return `!${body}*${checksum(body)}`;
}

/** AIS six-bit text: '@'..'_' are 0..31, ' '..'?' are 32..63; padded with '@'. */
function sixBitText(text, chars) {
  const fields = [];
  for (const c of text.toUpperCase().padEnd(chars, '@').slice(0, chars)) {
    const code = c.charCodeAt(0);
    if (code < 32 || code > 95) throw new Error(`AIS text cannot carry ${JSON.stringify(c)}`);
    fields.push([code >= 64 ? code - 64 : code, 6]);
  }
  return fields;
}

/** One message-24 part A sentence: the vessel's name (at most 20 characters). */
export function staticName({ mmsi, name }) {
  return sentence(bits([
    [24, 6], // message type
    [0, 2], // repeat indicator
    [mmsi, 30],
    [0, 2], // part A
    ...sixBitText(name, 20),
  ]));
}

/** One message-1 sentence: position in degrees, speed in knots, course and heading in degrees. */
export function positionReport({ mmsi, lat, lon, sogKn, cogDeg, headingDeg, second }) {
  return sentence(
    bits([
      [1, 6], // message type
      [0, 2], // repeat indicator
      [mmsi, 30],
      [0, 4], // under way using engine
      [-128, 8], // rate of turn: not available
      [Math.round(sogKn * 10), 10],
      [0, 1], // position accuracy
      [Math.round(lon * 600000), 28],
      [Math.round(lat * 600000), 27],
      [Math.round(cogDeg * 10), 12],
      [Math.round(headingDeg), 9],
      [second % 60, 6],
      [0, 2], // manoeuvre
      [0, 3], // spare
      [0, 1], // RAIM
      [0, 19], // radio status
    ]),
  );
}
