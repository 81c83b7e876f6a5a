/**
 * The faults the run injects outside the stream triggers (streams.ts) and the stores'
 * conflicts (world.ts): tasks crashing at a store operation, and, between steps, broker
 * deaths, returns, controlled shutdowns (some abandoned), bare lease deletions, brokers
 * lost together, paused tasks and on-demand preferred elections.
 */
import { abandonedShutdownOf, controlledShutdownOf, reviveBroker } from './brokers.js';
import { OBJECT_SWEEP_TASK, electOnDemand } from './controller.js';
import { SWEEP_MS, TOPIC } from './params.js';
import { leaseLive, type World } from './world.js';

/** Chance per broker fault roll of an operator's on-demand preferred-leader election instead. */
const ELECT_CHANCE = 0.15;
/** Chance that a task dies before a follower copy write after its first (a Lambda timing out in a long copy). */
const MIDCOPY_CRASH_CHANCE = 0.5;
/**
 * How often a writer dies between writing a batch and committing it (the two writes of
 * adapters/replica-append.ts), leaving an uncommitted batch at a log end for the next
 * writer to find, abandon, or lose the race to.
 */
const UNCOMMITTED_CRASH_CHANCE = 0.04;
const MAX_PAUSE_MS = 12_000;
/** Chance that a produce dies right after its diskless object write, before any of its appends: an orphan. */
const ORPHAN_CRASH_CHANCE = 0.12;
/**
 * Chance that a produce that wrote a diskless object stalls, before one of its batch puts or
 * commits, past the orphan age until a sweep run has judged the object (world.ts stallUntilJudged),
 * while it still means to commit.
 */
const STALL_CHANCE = 0.15;
/** Chance per store operation that the diskless sweep dies there (between any two of its steps). */
const SWEEP_CRASH_CHANCE = 0.02;
/** Chance per broker fault roll that several brokers are lost at the same moment (their REMOVEs then race). */
const LOST_TOGETHER_CHANCE = 0.12;
/** Chance that a controlled shutdown's Lambda dies right after marking its broker, which runs on. */
const ABANDON_CHANCE = 0.35;
/** How long brokers lost together stay down at most (unless the heal brings them back): longer than the not-live bound. */
const LOST_FOR_MS = 40_000;

/** Decides, at every store operation released, whether its task dies there instead (world.crashes says where). */
export function installCrashPolicy(world: World): void {
  const { rng, faults } = world;
  const crashes = world.crashes;
  world.scheduler.crashPolicy = (task, operation) => {
    if (crashes.cutCreationAt !== undefined && task.name === 'create-topic' && operation === 'metadata.createTopic' && ++crashes.creationSteps === crashes.cutCreationAt) {
      faults['cut-creation']++;
      return true;
    }
    if (crashes.once.has(task)) {
      crashes.once.delete(task);
      return true;
    }
    const marked = crashes.abandonAfterMark.get(task);
    if (marked !== undefined) {
      if (marked) {
        crashes.abandonAfterMark.delete(task);
        return true;
      }
      if (operation === 'brokers.markShuttingDown') crashes.abandonAfterMark.set(task, true);
      return false;
    }
    if (!world.faultsOn || task.kind === 'setup' || task.kind === 'heartbeat') return false;
    if (task.name === OBJECT_SWEEP_TASK && rng.chance(SWEEP_CRASH_CHANCE)) {
      faults['sweep-crash']++;
      return true;
    }
    if (crashes.justWroteObject.has(task)) {
      crashes.justWroteObject.delete(task);
      if (rng.chance(ORPHAN_CRASH_CHANCE)) {
        faults.orphan++;
        return true;
      }
    }
    if (operation === 'objects.write' && task.kind === 'produce') {
      crashes.wroteObject.add(task);
      crashes.justWroteObject.add(task);
      // Written as soon as this operation is released, before anyone else's: the next object.
      crashes.lastObjectOf.set(task, world.objects.writtenCount + 1);
    }
    if ((operation === 'log.putBatch' || operation === 'log.commit') && crashes.wroteObject.has(task) && rng.chance(STALL_CHANCE)) {
      faults.stall++;
      crashes.stallOn = crashes.lastObjectOf.get(task);
      return false;
    }
    if (operation === 'log.appendAsFollower') {
      const earlier = crashes.copyWrites.get(task) ?? 0;
      crashes.copyWrites.set(task, earlier + 1);
      // A Lambda that times out in the middle of a long copy: the writes made so far stay.
      if (earlier > 0 && rng.chance(MIDCOPY_CRASH_CHANCE)) {
        faults.midcopy++;
        return true;
      }
    }
    if (operation === 'log.commit' && rng.chance(UNCOMMITTED_CRASH_CHANCE)) {
      faults.uncommitted++;
      return true;
    }
    if (rng.chance(0.006)) {
      faults.crash++;
      return true;
    }
    return false;
  };
}

/** One roll of the broker faults, made before a step with the run's brokerFaultChance. */
export function injectBrokerFault(world: World): void {
  const { rng, scheduler, faults, brokers, tables } = world;
  const now = world.now;
  if (rng.chance(ELECT_CHANCE)) {
    electOnDemand(world);
    return;
  }
  const roll = rng.next();
  const choice = roll < 0.4 ? 0 : roll < 0.7 ? 1 : 2;
  const running = brokers.filter((b) => b.running && !b.shuttingDown);
  const stopped = brokers.filter((b) => !b.running && b.downUntil <= now());
  if (choice === 0 && running.length > 1 && rng.chance(LOST_TOGETHER_CHANCE)) {
    // Several brokers lost at the same moment (a rack, a zone): their REMOVEs reach the detector in any order.
    const lost = running.filter(() => rng.chance(0.6));
    if (lost.length < 2) return;
    faults.lost++;
    const downUntil = now() + rng.between(LOST_FOR_MS / 2, LOST_FOR_MS);
    for (const broker of lost) {
      broker.running = false;
      broker.generation++;
      broker.downUntil = downUntil;
    }
    scheduler.record('brokers', `LOST TOGETHER: ${lost.map((b) => b.id).join(', ')}`);
    // Meanwhile a survivor may be restarted by an operator, its controlled shutdown abandoned after the mark.
    const survivors = brokers.filter((b) => b.running && !b.shuttingDown && b.incarnation !== undefined);
    if (survivors.length > 0 && rng.chance(0.4)) {
      const survivor = rng.pick(survivors);
      const incarnation = survivor.incarnation!;
      scheduler.after(rng.between(0, 1_000), `abandon-timer:${survivor.id}`, () => {
        if (survivor.running && !survivor.shuttingDown && survivor.incarnation === incarnation && leaseLive(world, survivor.id)) {
          abandonedShutdownOf(world, survivor, incarnation);
        }
      });
    }
    // Often one of them alone comes back once all their leases lapsed, whichever REMOVE went first.
    if (rng.chance(0.5)) {
      const first = rng.pick(lost);
      const generation = first.generation;
      scheduler.after(world.timing.sessionTimeoutMs + rng.between(0, 2 * SWEEP_MS), `return-timer:${first.id}`, () => {
        if (!first.running && first.generation === generation) {
          faults.return++;
          reviveBroker(world, first);
        }
      });
    }
  } else if (choice === 0 && running.length > 1) {
    // Half the time a partition's current leader: leader failures are where the protocol is tested hardest.
    const leader = tables.partitions.get(`${TOPIC}#${rng.pick(world.partitions)}`)?.leader;
    const leading = running.find((b) => b.id === leader);
    const broker = leading && rng.chance(0.5) ? leading : rng.pick(running);
    const shutdownRoll = rng.next();
    if (shutdownRoll < 0.3 && broker.incarnation !== undefined && leaseLive(world, broker.id)) {
      if (rng.chance(ABANDON_CHANCE)) abandonedShutdownOf(world, broker, broker.incarnation);
      else controlledShutdownOf(world, broker, broker.incarnation);
      return;
    }
    broker.running = false;
    broker.generation++;
    if (shutdownRoll < 0.4) {
      // A broker deleting its own live lease without the controlled shutdown (a REMOVE with a future deadline).
      faults.deregister++;
      const incarnation = broker.incarnation ?? -1;
      scheduler.record(`broker:${broker.id}`, 'SHUT DOWN (deregisters its live lease)');
      scheduler.after(0, `deregister-timer:${broker.id}`, async () => {
        await scheduler.spawn(`deregister:${broker.id}`, 'shutdown', () => world.memory.brokers.deregister(broker.id, incarnation));
      });
    } else {
      faults.kill++;
      scheduler.record(`broker:${broker.id}`, 'KILLED (stops heartbeating)');
    }
  } else if (choice === 1 && stopped.length > 0) {
    reviveBroker(world, rng.pick(stopped));
    faults.return++;
  } else {
    // A task is paused once at most, and a late request not at all: no copy of a batch outlives the producer's expiration.
    const candidates = scheduler
      .liveTasks()
      .filter((t) => !t.crashed && t.pausedUntil === 0 && !t.name.startsWith('late:'));
    if (candidates.length === 0) return;
    scheduler.pause(rng.pick(candidates), now() + rng.between(1_000, MAX_PAUSE_MS));
    faults.pause++;
  }
}
