import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { isStreamed, type ApiResult, type StreamedResult, type StreamingApiHandler } from '../http/api-gateway.js';

/** `awslambda.HttpResponseStream.from`: the status and headers first, then the body as written. */
export type WithHttpPrelude = (stream: Writable, prelude: { statusCode: number; headers: Record<string, string> }) => Writable;

/**
 * Writes an answer in the streamed proxy format API Gateway (STREAM transfer mode) reads from
 * InvokeWithResponseStream: the prelude, then the body. Chunks go through a pipeline, so a
 * client slower than the database holds back the reads instead of filling memory.
 */
export async function writeStreamedAnswer(result: ApiResult | StreamedResult, responseStream: Writable, withPrelude: WithHttpPrelude): Promise<void> {
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]));
  const body = withPrelude(responseStream, { statusCode: result.statusCode, headers });
  await pipeline(isStreamed(result) ? Readable.from(result.chunks) : Readable.from([result.body]), body);
}

/**
 * The Lambda runtime's global, absent anywhere else (the local runtime imports the module too).
 * The AWS SDK sets an empty `awslambda` of its own outside Lambda, so its members are checked.
 */
const global = (globalThis as { awslambda?: Partial<typeof awslambda> }).awslambda;
const runtime = typeof global?.streamifyResponse === 'function' && global.HttpResponseStream ? (global as typeof awslambda) : undefined;

/**
 * A streaming route's Lambda handler: `streamifyResponse` is what makes the runtime hand over a
 * response stream, and it has to wrap the exported function itself. Outside Lambda the plain
 * function is exported, which nothing calls there.
 */
export function streamedLambdaHandler(handle: StreamingApiHandler) {
  const respond = async (event: APIGatewayProxyEvent, responseStream: Writable, context: Context): Promise<void> => {
    const withPrelude: WithHttpPrelude = (stream, prelude) => {
      if (!runtime) throw new Error('A streamed answer needs the Lambda runtime (awslambda.HttpResponseStream).');
      return runtime.HttpResponseStream.from(stream, prelude);
    };
    await writeStreamedAnswer(await handle(event, context), responseStream, withPrelude);
  };
  return runtime ? runtime.streamifyResponse(respond) : respond;
}
