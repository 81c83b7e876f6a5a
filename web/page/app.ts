/**
 * The console page: renders the snapshots the server pushes over server-sent events and
 * posts the forms' and buttons' actions back. No framework: a few tables rebuilt per push.
 */
import { formatAssignment } from '../../client/consumer-group-view.js';
import type { BenchEntry } from '../bench-charts.js';
import type { BrokerRow, ConsoleSnapshot, GroupRow, GroupTimelineEntry, PartitionRow, TimelineEntry, TopicPlanAnswer, TopicRow } from '../snapshot.js';

let latest: ConsoleSnapshot | undefined;
/** Server clock minus page clock, so countdowns use the judge's time. */
let clockSkewMs = 0;
let streamUp = false;
const previousPartitions = new Map<string, string>();
/** The server's per-start secret, in the page it served: other pages cannot read it, so they cannot act. */
const token = document.querySelector<HTMLMetaElement>('meta[name="console-token"]')?.content ?? '';

const $ = <T extends HTMLElement>(selector: string): T => {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`missing ${selector}`);
  return element;
};

function el(tag: string, attrs: Record<string, string | undefined> = {}, ...children: Array<Node | string>): HTMLElement {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined) element.setAttribute(key, value);
  element.append(...children);
  return element;
}

function connect(): void {
  const source = new EventSource('/api/stream');
  source.onmessage = (message: MessageEvent<string>) => {
    streamUp = true;
    latest = JSON.parse(message.data) as ConsoleSnapshot;
    clockSkewMs = latest.serverNow - Date.now();
    render(latest);
  };
  // EventSource reconnects by itself (the server asks for 500 ms); meanwhile say so.
  source.onerror = () => {
    streamUp = false;
    renderStatus();
  };
}

function renderStatus(): void {
  const status = $('#status');
  const banner = $('#banner');
  if (!streamUp) {
    status.className = 'status bad';
    status.textContent = 'console server unreachable';
    banner.hidden = false;
    banner.textContent = 'The console server does not answer (was npm start stopped?). Reconnecting…';
    return;
  }
  if (!latest) return;
  const { cloud, endpoint } = latest;
  status.className = `status ${cloud.ok ? 'ok' : 'bad'}`;
  status.textContent = cloud.ok ? `cloud ${endpoint}: up` : `cloud ${endpoint}: DOWN`;
  banner.hidden = cloud.ok;
  if (!cloud.ok) {
    const since = cloud.lastOkAt ? ` Last good answer ${Math.round((latest.serverNow - cloud.lastOkAt) / 1000)} s ago.` : '';
    banner.textContent = `${cloud.error ?? 'The cloud does not answer.'}${since} What is shown below may be stale.`;
  }
}

function render(snapshot: ConsoleSnapshot): void {
  renderStatus();
  renderBrokers(snapshot.brokers);
  renderTopics(snapshot.topics);
  renderPlanTopics(snapshot.topics);
  renderTimeline(snapshot.timeline);
  renderGroups(snapshot.groups, snapshot.groupsError);
  renderGroupTimeline(snapshot.groupTimeline);
}

function now(): number {
  return Date.now() + clockSkewMs;
}

function renderBrokers(brokers: BrokerRow[]): void {
  const body = $('#brokers-body');
  body.replaceChildren(
    ...brokers.map((broker) => {
      const lease = broker.lease;
      const status = lease ? (lease.shuttingDown ? 'shutting down' : lease.alive ? 'alive' : 'expired') : 'no lease';
      const process = broker.simulated?.status ?? 'external';
      const actions = el('td');
      if (broker.simulated) {
        const verbs: Array<[string, string]> =
          process === 'running'
            ? [['kill', 'kill'], ['pause', 'pause'], ['shutdown', 'graceful stop']]
            : process === 'paused'
              ? [['resume', 'resume'], ['kill', 'kill']]
              : [['revive', 'revive']];
        for (const [verb, label] of verbs) {
          const button = el('button', { type: 'button', 'data-testid': `${verb}-${broker.brokerId}` }, label);
          button.addEventListener('click', () => void brokerAction(broker.brokerId, verb));
          actions.append(button);
        }
      }
      return el(
        'tr',
        { 'data-testid': `broker-${broker.brokerId}`, 'data-alive': String(Boolean(lease?.alive)) },
        el('td', { class: 'leader' }, broker.brokerId),
        el('td', { class: lease?.alive ? 'alive' : 'dead' }, status),
        el('td', { 'data-deadline': lease ? String(lease.deadlineMs) : undefined, class: 'countdown' }, lease ? countdown(lease.deadlineMs) : '—'),
        el('td', { 'data-since': lease ? String(lease.lastHeartbeatAt) : undefined, class: 'since' }, lease ? ago(lease.lastHeartbeatAt) : '—'),
        el('td', {}, lease ? String(lease.incarnation) : '—'),
        el('td', {}, process),
        actions,
      );
    }),
  );
}

function countdown(deadlineMs: number): string {
  const left = deadlineMs - now();
  return left > 0 ? `${(left / 1000).toFixed(1)} s` : `lapsed ${(-left / 1000).toFixed(1)} s ago`;
}

function ago(at: number): string {
  return `${((now() - at) / 1000).toFixed(1)} s ago`;
}

function renderTopics(topics: TopicRow[]): void {
  const container = $('#topics');
  if (topics.length === 0) {
    container.replaceChildren(el('p', { class: 'note' }, 'No topics yet: create one below.'));
    return;
  }
  container.replaceChildren(
    ...topics.map((topic) =>
      el(
        'div',
        { 'data-testid': `topic-${topic.topic}` },
        el('h3', {}, `${topic.topic}`, el('span', { class: 'sub' }, ` ${topic.partitionCount} partitions, replication factor ${topic.replicationFactor}${topic.minInsyncReplicas ? `, min ISR ${topic.minInsyncReplicas}` : ''}${topic.compressionType && topic.compressionType !== 'producer' ? `, compression ${topic.compressionType}` : ''}${topic.storage === 'diskless' ? ', diskless (record bytes in S3)' : ''}`)),
        el(
          'table',
          { class: 'grid' },
          el('thead', {}, el('tr', {}, ...['partition', 'state', 'leader', 'leader epoch', 'replicas', 'ISR', 'high watermark', 'log end per replica'].map((name) => el('th', {}, name)))),
          el('tbody', {}, ...topic.partitions.map(partitionRow)),
        ),
      ),
    ),
  );
}

function partitionRow(partition: PartitionRow): HTMLElement {
  const key = `${partition.Topic}-${partition.Partition}`;
  const signature = `${partition.Leader}/${partition.LeaderEpoch}/${partition.Isr.join(',')}/${partition.State}`;
  const changed = previousPartitions.has(key) && previousPartitions.get(key) !== signature;
  previousPartitions.set(key, signature);
  const replicas = el('td');
  partition.Replicas.forEach((replica, index) => {
    if (index > 0) replicas.append(', ');
    replicas.append(el('span', { class: replica === partition.Leader ? 'leader' : partition.Isr.includes(replica) ? '' : 'out-of-isr' }, replica));
  });
  const classes = [partition.State === 'OFFLINE' ? 'offline' : '', changed ? 'changed' : ''].filter(Boolean).join(' ');
  return el(
    'tr',
    { 'data-testid': `partition-${key}`, class: classes || undefined },
    el('td', {}, String(partition.Partition)),
    el('td', { 'data-field': 'state' }, partition.State),
    el('td', { 'data-field': 'leader', class: 'leader' }, partition.Leader ?? 'none'),
    el('td', { 'data-field': 'epoch' }, String(partition.LeaderEpoch)),
    replicas,
    el('td', { 'data-field': 'isr' }, `[${partition.Isr.join(', ')}]`),
    el('td', { 'data-field': 'hw' }, String(partition.HighWatermark)),
    el(
      'td',
      { 'data-field': 'log-ends' },
      partition.Replicas.map((replica) => `${replica} ${partition.LogEndOffsets?.[replica] ?? '?'}`).join(', '),
    ),
  );
}

const dash = (value: number | string | null | undefined): string => (value === null || value === undefined || value === '' ? '-' : String(value));

function renderGroups(groups: GroupRow[], error: string | undefined): void {
  const banner = $('#groups-error');
  banner.hidden = error === undefined;
  banner.textContent = error === undefined ? '' : `${error} (what is shown below may be stale)`;
  const container = $('#groups');
  if (groups.length === 0) {
    container.replaceChildren(el('p', { class: 'note' }, 'No consumer groups yet: a consumer with a group.id, or an offset commit, creates one.'));
    return;
  }
  container.replaceChildren(...groups.map(groupBlock));
}

function groupBlock(group: GroupRow): HTMLElement {
  const totalLag = group.partitions.reduce((sum, row) => sum + (row.lag ?? 0), 0);
  const coordinator = group.coordinator === null ? 'no coordinator' : `coordinator ${group.coordinator} (epoch ${group.coordinatorEpoch})`;
  const members = el(
    'table',
    { class: 'grid', 'data-testid': `group-members-${group.groupId}` },
    el('thead', {}, el('tr', {}, ...['member', 'client', 'partitions owned'].map((name) => el('th', {}, name)))),
    el(
      'tbody',
      {},
      ...(group.members.length === 0
        ? [el('tr', {}, el('td', { colspan: '3', class: 'note' }, 'no active members'))]
        : group.members.map((member) =>
            el(
              'tr',
              { 'data-testid': `group-member-${member.memberId}` },
              el('td', { class: member.memberId === group.leader ? 'leader' : undefined, title: member.memberId === group.leader ? 'the group leader: it computed the assignment' : undefined }, member.memberId),
              el('td', {}, member.groupInstanceId ? `${member.clientId} (static: ${member.groupInstanceId})` : member.clientId),
              el(
                'td',
                { 'data-field': 'owned' },
                member.assignmentError ? `unreadable: ${member.assignmentError}` : formatAssignment(member.partitions) || 'none yet',
              ),
            ),
          )),
    ),
  );
  const partitions = el(
    'table',
    { class: 'grid', 'data-testid': `group-partitions-${group.groupId}` },
    el(
      'thead',
      {},
      el('tr', {}, el('th', {}, 'topic'), el('th', {}, 'partition'), el('th', {}, 'owner'), el('th', { class: 'num' }, 'committed'), el('th', { class: 'num' }, 'log end'), el('th', { class: 'num' }, 'lag')),
    ),
    el(
      'tbody',
      {},
      ...(group.partitions.length === 0
        ? [el('tr', {}, el('td', { colspan: '6', class: 'note' }, 'nothing owned or committed yet'))]
        : group.partitions.map((row) =>
            el(
              'tr',
              { 'data-testid': `group-partition-${group.groupId}-${row.topic}-${row.partition}` },
              el('td', {}, row.topic),
              el('td', {}, String(row.partition)),
              el('td', { 'data-field': 'owner' }, dash(row.memberId)),
              el('td', { 'data-field': 'committed', class: 'num' }, dash(row.currentOffset)),
              el('td', { 'data-field': 'log-end', class: 'num' }, dash(row.logEndOffset)),
              el('td', { 'data-field': 'lag', class: `num${(row.lag ?? 0) > 0 ? ' lag-high' : ''}` }, dash(row.lag)),
            ),
          )),
    ),
  );
  return el(
    'div',
    { class: 'group', 'data-testid': `group-${group.groupId}`, 'data-state': group.state, 'data-generation': String(group.generationId) },
    el(
      'h3',
      {},
      `${group.groupId} `,
      el('span', { class: `state ${group.state}`, 'data-field': 'state' }, group.state),
      el(
        'span',
        { class: 'sub', 'data-field': 'summary' },
        ` generation ${group.generationId}, ${group.members.length} member${group.members.length === 1 ? '' : 's'}${group.protocolName ? `, assignor ${group.protocolName}` : ''}, ${coordinator}, total lag ${totalLag}`,
      ),
    ),
    el('div', { class: 'group-tables' }, members, partitions),
  );
}

function renderGroupTimeline(entries: GroupTimelineEntry[]): void {
  $('#group-timeline-body').replaceChildren(
    ...entries.map((entry) =>
      el(
        'tr',
        { 'data-testid': 'group-timeline-entry', 'data-group': entry.groupId, 'data-generation': String(entry.generationId), 'data-state': entry.state },
        el('td', {}, new Date(entry.at).toISOString().slice(11, 23)),
        el('td', {}, entry.groupId),
        el('td', {}, entry.previousGenerationId === undefined ? `${entry.generationId} (first seen)` : `${entry.previousGenerationId} → ${entry.generationId}`),
        el('td', { class: `state ${entry.state}` }, entry.state),
        el('td', {}, dash(entry.leader)),
        el('td', { 'data-field': 'members' }, entry.members.map((member) => `${member.memberId}: ${member.partitions || 'none'}`).join('; ') || 'no members'),
      ),
    ),
  );
}

/** The plan form's topic list follows the cluster; the chosen topic stays chosen while it exists. */
function renderPlanTopics(topics: TopicRow[]): void {
  const select = $<HTMLSelectElement>('#plan select[name="topic"]');
  const names = topics.map((topic) => topic.topic);
  if ([...select.options].map((option) => option.value).join('\n') !== names.join('\n')) {
    const chosen = select.value;
    select.replaceChildren(...names.map((name) => el('option', { value: name }, name)));
    if (names.includes(chosen)) select.value = chosen;
  }
  const topic = topics.find((candidate) => candidate.topic === select.value);
  $('#plan-topic-settings').textContent = topic ? `RF ${topic.replicationFactor}, min ISR ${topic.minInsyncReplicas ?? 1}` : 'no topics yet';
  const rate = topic?.committedRecordsPerSecond;
  $('#plan-observed').textContent = !topic
    ? ''
    : rate === undefined
      ? `No produce rate observed for ${topic.topic} yet (the console needs 10 s of high watermarks); enter one.`
      : `Observed: ${rate.toFixed(1)} records/s committed to ${topic.topic} over the last 10 s (its high watermarks); a blank records/s plans for that.`;
}

async function plan(form: HTMLFormElement): Promise<void> {
  const output = $('#plan-result');
  output.className = 'plan-result';
  output.textContent = '…';
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(form).entries()) if (typeof value === 'string' && value.trim() !== '') query.set(name, value.trim());
  try {
    const response = await fetch(`/api/plan?${query.toString()}`);
    const answer = (await response.json()) as { ok: boolean; result?: TopicPlanAnswer; error?: string };
    if (!answer.ok || !answer.result) {
      output.className = 'plan-result error';
      output.textContent = `Refused: ${answer.error ?? 'unknown error'}`;
      return;
    }
    const { result } = answer;
    const source = result.rateSource === 'observed' ? 'the observed rate' : 'the rate entered';
    output.textContent = [`${result.topic}: RF ${result.replicationFactor}, min ISR ${result.minInsyncReplicas}, ${result.brokers} brokers, at ${source}`, '', ...result.lines].join('\n');
  } catch (error) {
    output.className = 'plan-result error';
    output.textContent = `The console server did not answer: ${(error as Error).message}`;
  }
}

$<HTMLFormElement>('#plan').addEventListener('submit', (event) => {
  event.preventDefault();
  void plan(event.target as HTMLFormElement);
});
$<HTMLSelectElement>('#plan select[name="topic"]').addEventListener('change', () => latest && renderPlanTopics(latest.topics));

function renderTimeline(timeline: TimelineEntry[]): void {
  $('#timeline-body').replaceChildren(...timeline.map(timelineRow));
}

function timelineRow(entry: TimelineEntry): HTMLElement {
  const time = new Date(entry.at).toISOString().slice(11, 23);
  if (entry.kind === 'action' || !entry.event) {
    return el(
      'tr',
      { class: `action${entry.ok ? '' : ' failed'}`, 'data-testid': 'timeline-action' },
      el('td', {}, time),
      el('td', {}, ''),
      el('td', { colspan: '5' }, `${entry.ok ? 'console' : 'console, failed'}: ${entry.text ?? ''}`),
    );
  }
  const event = entry.event;
  return el(
    'tr',
    { 'data-testid': 'timeline-event', 'data-reason': event.reason, 'data-partition': `${event.topic}-${event.partition}`, 'data-epoch': String(event.leaderEpoch), 'data-leader': event.newLeader ?? '' },
    el('td', {}, time),
    el('td', {}, `${event.topic}-${event.partition}`),
    el('td', { class: `reason ${event.reason}` }, `${event.reason}${event.unclean ? ' (UNCLEAN)' : ''}${event.state === 'OFFLINE' ? ' → OFFLINE' : ''}`),
    el('td', {}, `${event.previousLeader ?? 'none'} → ${event.newLeader ?? 'none'}`),
    el('td', {}, String(event.leaderEpoch)),
    el('td', {}, `[${event.isr.join(', ')}]`),
    el('td', { 'data-testid': 'failover-timing' }, failoverText(entry)),
  );
}

function failoverText(entry: TimelineEntry): string {
  const failover = entry.failover;
  if (!failover) return '';
  const base = failover.fromAt;
  const promoted = base === undefined ? 'promoted' : `promoted +${failover.promotedAt - base} ms`;
  const read =
    failover.firstReadAt !== undefined
      ? base === undefined
        ? `first read ${failover.firstReadAt - failover.promotedAt} ms after promotion`
        : `first read +${failover.firstReadAt - base} ms`
      : failover.firstReadError
        ? 'no read served'
        : 'first read pending…';
  const from = failover.from === 'unknown' ? '' : `${failover.from} → `;
  return `${from}${promoted} → ${read}`;
}

/** Keeps the countdowns moving between pushes. */
function tick(): void {
  for (const cell of document.querySelectorAll<HTMLElement>('td.countdown[data-deadline]')) cell.textContent = countdown(Number(cell.dataset.deadline));
  for (const cell of document.querySelectorAll<HTMLElement>('td.since[data-since]')) cell.textContent = ago(Number(cell.dataset.since));
}

async function post(path: string, body: unknown): Promise<{ ok: boolean; result?: unknown; error?: string; errorType?: string }> {
  try {
    const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-console-token': token }, body: JSON.stringify(body) });
    return (await response.json()) as { ok: boolean; result?: unknown; error?: string };
  } catch (error) {
    return { ok: false, error: `The console server did not answer: ${(error as Error).message}` };
  }
}

async function brokerAction(brokerId: string, verb: string): Promise<void> {
  const output = $('#broker-action-result');
  output.className = 'result';
  output.textContent = `${verb} ${brokerId} …`;
  const answer = await post(`/api/brokers/${encodeURIComponent(brokerId)}/${verb}`, {});
  output.className = `result ${answer.ok ? 'ok' : 'error'}`;
  output.textContent = answer.ok ? `${verb} ${brokerId}: done` : `Refused: ${answer.error ?? 'unknown error'}`;
}

function wireForm(formId: string, path: string, show: (result: unknown) => string): void {
  const form = $<HTMLFormElement>(`#${formId}`);
  const output = form.querySelector<HTMLElement>('.result')!;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form).entries());
    output.className = 'result';
    output.textContent = '…';
    void post(path, body).then((answer) => {
      output.className = `result ${answer.ok ? 'ok' : 'error'}`;
      output.textContent = answer.ok ? show(answer.result) : `Refused: ${answer.error ?? 'unknown error'}`;
    });
  });
}

interface Ack { leader: string; leaderEpoch: number; baseOffset: number; lastOffset: number; highWatermark: number }
interface Read { leader: string; leaderEpoch: number; highWatermark: number; nextOffset: number; records: Array<{ offset: number; key: string | null; value: string }> }

wireForm('start-broker', '/api/brokers', () => 'started');
wireForm('create-topic', '/api/topics', (result) => {
  const created = result as { topic: string; partitions: number; replicationFactor: number };
  return `created ${created.topic}: ${created.partitions} partitions, replication factor ${created.replicationFactor}`;
});
wireForm('produce', '/api/produce', (result) => {
  const ack = result as Ack;
  return `acknowledged by leader ${ack.leader} (epoch ${ack.leaderEpoch}): offsets ${ack.baseOffset}-${ack.lastOffset}, high watermark ${ack.highWatermark}`;
});
wireForm('consume', '/api/consume', (result) => {
  const read = result as Read;
  const lines = read.records.map((record) => `${record.offset}\t${record.key ?? ''}\t${record.value}`);
  return [`${read.records.length} records from leader ${read.leader} (epoch ${read.leaderEpoch}), next offset ${read.nextOffset}, high watermark ${read.highWatermark}`, ...lines].join('\n');
});

function benchArticle(entry: BenchEntry): HTMLElement {
  return el(
    'article',
    { class: 'bench', 'data-testid': `bench-${entry.name}` },
    el('h3', {}, `${entry.name} `, el('span', { class: 'sub', 'data-testid': `bench-summary-${entry.name}` }, entry.summary)),
    ...entry.charts.map((chart) => el('img', { src: `/bench/${encodeURIComponent(chart.file)}`, alt: `${entry.name} benchmark: ${chart.title}`, 'data-testid': `bench-chart-${chart.file}` })),
    el('p', { class: 'note' }, `${entry.name}.json: ${entry.provenance || 'no command, commit or machine recorded'}`),
  );
}

void fetch('/api/bench')
  .then((response) => response.json() as Promise<BenchEntry[]>)
  .then((entries) => {
    $('#bench-list').replaceChildren(...entries.filter((entry) => entry.found).map(benchArticle));
    // A benchmark not run yet, or a result its chart cannot read, is named with the reason.
    $('#bench-missing').replaceChildren(...entries.filter((entry) => !entry.found).map((entry) => el('li', { 'data-benchmark': entry.name }, entry.summary)));
  })
  .catch(() => undefined);

connect();
setInterval(tick, 200);
