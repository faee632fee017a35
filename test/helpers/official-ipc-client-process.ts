/**
 * The official Greengrass IPC client (aws-iot-device-sdk-v2, on aws-crt) in a process of its own, driven by JSON lines
 * on stdin and answering on stdout (`official-ipc-client.ts` is the other end). aws-crt's native resources keep the
 * process that loads them from exiting when asked, so a Jest worker that loaded it would be killed at the end.
 *
 * Commands: `{ id, op: 'connect', socketPath, authToken }`, `{ id, op: 'subscribe', topic }`,
 * `{ id, op: 'publishToTopic', request }`, `{ id, op: 'publishToIoTCore', request }`, `{ id, op: 'closeOperation',
 * operation }`, `{ id, op: 'close' }`. Answers: `{ id, result }` or `{ id, error }`; events: `{ event: 'message',
 * operation, message }`, `{ event: 'ended', operation }`, `{ event: 'disconnection' }`. Bytes travel as base64.
 */
import { createInterface } from 'node:readline';
import { eventstream_rpc, greengrasscoreipc, io } from 'aws-iot-device-sdk-v2';

type Command = { readonly id: number; readonly op: string } & Record<string, unknown>;
type Message = greengrasscoreipc.model.SubscriptionResponseMessage;

let client: greengrasscoreipc.Client | undefined;
const operations = new Map<number, eventstream_rpc.StreamingOperation<unknown, unknown, unknown, Message>>();

function send(line: object): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

/** A binary message's bytes as base64; everything else as it is. */
function encodeMessage(message: Message): object {
  const binary = message.binaryMessage;
  return binary
    ? {
        binaryMessage: {
          base64: Buffer.from(binary.message as Uint8Array).toString('base64'),
          context: binary.context,
        },
      }
    : message;
}

/** `base64` fields of a request become the bytes the client sends. */
function decodeRequest(request: Record<string, unknown>): Record<string, unknown> {
  const decoded = JSON.parse(JSON.stringify(request), (_key, value: unknown) =>
    value !== null && typeof value === 'object' && 'base64' in value
      ? Buffer.from((value as { base64: string }).base64, 'base64')
      : value,
  ) as Record<string, unknown>;
  return decoded;
}

async function handle(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'connect': {
      const authToken = command.authToken as string;
      client = greengrasscoreipc.createClient({
        hostName: command.socketPath as string,
        port: 0,
        socketOptions: new io.SocketOptions(io.SocketType.STREAM, io.SocketDomain.LOCAL),
        connectTransform: ({ message }) =>
          Promise.resolve({ ...message, payload: JSON.stringify({ authToken }) }),
      });
      client.on('disconnection', () => send({ event: 'disconnection' }));
      await client.connect();
      return {};
    }
    case 'subscribe': {
      const operation = client!.subscribeToTopic({ topic: command.topic as string });
      operation.on('message', (message) =>
        send({ event: 'message', operation: command.id, message: encodeMessage(message) }),
      );
      operation.on('ended', () => send({ event: 'ended', operation: command.id }));
      await operation.activate();
      operations.set(command.id, operation);
      return {};
    }
    case 'publishToTopic':
      return client!.publishToTopic(decodeRequest(command.request as Record<string, unknown>) as never);
    case 'publishToIoTCore':
      return client!.publishToIoTCore(decodeRequest(command.request as Record<string, unknown>) as never);
    case 'closeOperation':
      await operations.get(command.operation as number)?.close();
      return {};
    case 'close':
      await client?.close();
      setImmediate(() => process.exit(0));
      return {};
    default:
      throw new Error(`Unknown command ${command.op}`);
  }
}

function describe(error: unknown): object {
  if (error instanceof eventstream_rpc.RpcError) {
    return { type: error.type, description: error.description, serviceError: error.serviceError };
  }
  return { description: String(error) };
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as Command;
  handle(command).then(
    (result) => send({ id: command.id, result: result ?? {} }),
    (error: unknown) => send({ id: command.id, error: describe(error) }),
  );
});
