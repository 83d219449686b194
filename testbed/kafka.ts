import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { freePorts } from './ports.ts';
import { ServiceStartError, startProcess, waitUntilReady, type ManagedProcess } from './process.ts';
import { toolPath } from './tools.ts';

const execFileAsync = promisify(execFile);

/** A topic the broker creates once it first starts (auto-creation is off). */
export interface KafkaTopicSpec {
  name: string;
  /** @default 3 */
  partitions?: number;
}

/** Options for {@link startKafka}. */
export interface KafkaBrokerOptions {
  /** Holds the broker's log dirs, its config and its process log; reused by `start()`. */
  dataDir: string;
  /** Topics to create on first start. */
  topics?: readonly KafkaTopicSpec[];
  /** @default 60_000 */
  startTimeoutMs?: number;
}

/**
 * A real Apache Kafka broker (KRaft combined mode: broker and controller in one JVM) on
 * loopback ports. `stop()` and `start()` take it down and bring it back on the same ports
 * and data, which is how outage tests simulate Kafka being unavailable.
 */
export interface KafkaBroker extends AsyncDisposable {
  /** `host:port` bootstrap addresses for clients. */
  brokers: string[];
  port: number;
  controllerPort: number;
  /** The running JVM, `undefined` while stopped. */
  readonly process: ManagedProcess | undefined;
  readonly running: boolean;
  /** Seconds the last (re)start took until the broker answered metadata requests. */
  readonly lastStartSeconds: number;
  createTopic(topic: KafkaTopicSpec): Promise<void>;
  /** Starts the broker again after {@link stop}; a no-op while it runs. */
  start(): Promise<void>;
  /** Stops the broker (SIGTERM, a controlled shutdown), keeping its data. */
  stop(): Promise<void>;
}

/** The JVM that runs the broker: `$JAVA_HOME/bin/java` when set, else `java` on PATH. */
function javaCommand(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Small heap, quick JIT, no GC logs: the broker only needs to start fast and carry test traffic. */
const JVM_ARGS = [
  '-Xms128m',
  '-Xmx512m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Djava.awt.headless=true',
];

function serverProperties(options: { logDir: string; port: number; controllerPort: number }): string {
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${options.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${options.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${options.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': options.logDir,
    'auto.create.topics.enable': false,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    // One partition for the internal topics: the default 50 consumer-offset partitions cost
    // seconds on the first consumer group.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    'num.network.threads': 2,
    'num.io.threads': 2,
    'background.threads': 2,
    'num.recovery.threads.per.data.dir': 1,
    'log.cleaner.threads': 1,
  };
  return `${Object.entries(settings)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n')}\n`;
}

/** Warnings and errors only, plus the line that says the server started. */
const LOG4J2_PROPERTIES = `rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.raft.name=kafka.server.KafkaRaftServer
logger.raft.level=INFO
`;

function admin(brokers: string[]) {
  return new Kafka({
    clientId: 'sentinel-testbed',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  }).admin();
}

/**
 * Formats KRaft storage (first start only) and runs `java -cp 'libs/*' kafka.Kafka` with the
 * jars that scripts/ensure-tools.sh fetched from Maven Central, on free loopback ports.
 * Resolves once the broker answers metadata requests and the requested topics exist.
 */
export async function startKafka(options: KafkaBrokerOptions): Promise<KafkaBroker> {
  const libs = toolPath('kafka', 'libs');
  const classpath = `${libs}/*`;
  const java = javaCommand();
  const dataDir = options.dataDir;
  const logDir = join(dataDir, 'kraft');
  const configFile = join(dataDir, 'server.properties');
  const log4jFile = join(dataDir, 'log4j2.properties');
  const logFile = join(dataDir, 'kafka.log');
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  mkdirSync(dataDir, { recursive: true });
  const [port, controllerPort] = (await freePorts(2)) as [number, number];
  writeFileSync(configFile, serverProperties({ logDir, port, controllerPort }));
  writeFileSync(log4jFile, LOG4J2_PROPERTIES);
  const log4jArg = `-Dlog4j2.configurationFile=${log4jFile}`;

  if (!existsSync(join(logDir, 'meta.properties'))) {
    // A KRaft cluster id is a base64url-encoded 16-byte UUID.
    const clusterId = randomBytes(16).toString('base64url');
    try {
      await execFileAsync(java, [
        ...JVM_ARGS,
        log4jArg,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '--cluster-id',
        clusterId,
        '--config',
        configFile,
        '--ignore-formatted',
      ]);
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new ServiceStartError(
        'kafka',
        'formatting KRaft storage failed',
        e.stderr || e.stdout || e.message,
      );
    }
  }

  const brokers = [`127.0.0.1:${port}`];
  let proc: ManagedProcess | undefined;
  let lastStartSeconds = 0;

  const createTopic = async (topic: KafkaTopicSpec): Promise<void> => {
    const client = admin(brokers);
    await client.connect();
    try {
      await client.createTopics({
        topics: [{ topic: topic.name, numPartitions: topic.partitions ?? 3, replicationFactor: 1 }],
        waitForLeaders: true,
      });
    } finally {
      await client.disconnect();
    }
  };

  const start = async (): Promise<void> => {
    if (proc?.running) return;
    const t0 = Date.now();
    proc = startProcess({
      name: 'kafka',
      command: java,
      args: [...JVM_ARGS, log4jArg, '-cp', classpath, 'kafka.Kafka', configFile],
      logFile,
    });
    const started = proc;
    try {
      await waitUntilReady(
        started,
        async () => {
          const client = admin(brokers);
          await client.connect();
          try {
            const cluster = await client.describeCluster();
            return cluster.brokers.length > 0 && cluster.controller !== null;
          } finally {
            await client.disconnect();
          }
        },
        timeoutMs,
        250,
      );
    } catch (err) {
      await started.stop();
      throw err;
    }
    lastStartSeconds = (Date.now() - t0) / 1000;
  };

  const stop = async (): Promise<void> => {
    const running = proc;
    proc = undefined;
    // A controlled shutdown takes a second or two; a wedged JVM is killed after the grace time.
    await running?.stop(15_000);
  };

  await start();
  try {
    for (const topic of options.topics ?? []) await createTopic(topic);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    brokers,
    port,
    controllerPort,
    get process() {
      return proc;
    },
    get running() {
      return proc?.running ?? false;
    },
    get lastStartSeconds() {
      return lastStartSeconds;
    },
    createTopic,
    start,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
