import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Replay, ReplayRequest, StreamReplaySource } from '../../ports/stream-replay.js';

/**
 * The resume's read of Postgres, done by a function in the VPC (`read-stream-replay`): the
 * function that posts to the connections must be outside it, since the VPC has no NAT and
 * API Gateway's management endpoint is public only (an execute-api VPC endpoint serves private
 * REST APIs, not a WebSocket API's @connections).
 */
export class InvokedStreamReplay implements StreamReplaySource {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async eventsStoredAfter(request: ReplayRequest): Promise<Replay> {
    const answer = await this.client.send(new InvokeCommand({ FunctionName: this.functionName, Payload: Buffer.from(JSON.stringify(request)) }));
    const text = Buffer.from(answer.Payload ?? new Uint8Array()).toString();
    if (answer.FunctionError) throw new Error(`the replay function failed (${answer.FunctionError}): ${text.slice(0, 300)}`);
    return JSON.parse(text) as Replay;
  }
}
