/**
 * Report parsing: a SupportSession report of 10,000 events, parsed and typed by rs-bridge
 * (validation, namespace removal, arrays, decoding, mapping), against fast-xml-parser's raw parse of
 * the same document. Figure: throughput ratio ours / raw (target >= 0.5).
 * Run: npx ts-node --transpile-only bench/bt-report-parsing.ts [events]
 */
import { XMLParser } from 'fast-xml-parser';
import { mapSupportSession } from '../src/beyondtrust/reporting.client';
import { parseApplianceXml } from '../src/beyondtrust/xml';
import { median, report } from './lib';

const EVENTS = Number(process.argv[2] ?? 10_000);
const ROUNDS = 9;

function buildReport(events: number): string {
  const parts: string[] = [];
  for (let i = 0; i < events; i += 1) {
    const t = 1_700_000_000 + i;
    if (i % 10 === 9) {
      parts.push(
        `<event timestamp="${t}" event_type="File Upload"><performed_by gsnumber="11" type="representative">Ada Admin</performed_by><filename>log-${i}.txt</filename><filesize>${i * 10}</filesize></event>`,
      );
    } else if (i % 25 === 24) {
      parts.push(
        `<event timestamp="${t}" event_type="Chat Message"><performed_by gsnumber="21" type="customer">Casey</performed_by><encoded_body>${Buffer.from(`bin\u0001 ${i}`).toString('base64')}</encoded_body></event>`,
      );
    } else {
      const who =
        i % 2
          ? '<performed_by gsnumber="21" type="customer">Casey</performed_by>'
          : '<performed_by gsnumber="11" type="representative">Ada Admin</performed_by>';
      parts.push(
        `<event timestamp="${t}" event_type="Chat Message">${who}<body>message number ${i} &amp; some text about the printer</body></event>`,
      );
    }
  }
  return `<?xml version="1.0" encoding="UTF-8"?>
<session_list xmlns="https://www.beyondtrust.com/namespaces/API/reporting"><session lsid="c69a8e10bea9428f816cfababe9815fe"><session_type>support</session_type><lseq>1</lseq>
<start_time timestamp="1700000000">2023-11-14T22:13:20+00:00</start_time><end_time timestamp="1700010000">2023-11-15T01:00:00+00:00</end_time><duration>02:46:40</duration>
<external_key>INC0012345</external_key><primary_customer gsnumber="21">Casey</primary_customer><primary_rep gsnumber="11" id="1">Ada Admin</primary_rep>
<customer_list><customer gsnumber="21"><username>Casey</username><primary_cust>1</primary_cust></customer></customer_list>
<rep_list><representative gsnumber="11" id="1"><username>ada</username><session_owner>1</session_owner><primary_rep>1</primary_rep></representative></rep_list>
<session_details>${parts.join('')}</session_details></session></session_list>`;
}

function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const xml = buildReport(EVENTS);
const raw = new XMLParser({ ignoreAttributes: false });
let typedEvents = 0;
const ours = () => {
  const sessions = parseApplianceXml(xml, 'SupportSession').node.session as never[];
  typedEvents = mapSupportSession(sessions[0]).events.length;
};
const baseline = () => void raw.parse(xml);

// Warm up both paths, then alternate so neither gets the quieter moments of the machine.
for (let i = 0; i < 2; i += 1) {
  baseline();
  ours();
}
const rawMs: number[] = [];
const oursMs: number[] = [];
for (let i = 0; i < ROUNDS; i += 1) {
  rawMs.push(time(baseline));
  oursMs.push(time(ours));
}
if (typedEvents !== EVENTS) throw new Error(`typed ${typedEvents} events, expected ${EVENTS}`);

const rawMedian = median(rawMs);
const oursMedian = median(oursMs);
report('bt-report-parsing', {
  events: EVENTS,
  documentBytes: Buffer.byteLength(xml),
  rounds: ROUNDS,
  rawParseMsMedian: Number(rawMedian.toFixed(1)),
  parsedAndTypedMsMedian: Number(oursMedian.toFixed(1)),
  throughputRatio: Number((rawMedian / oursMedian).toFixed(3)),
  target: '>= 0.5',
});
