import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTables, localDynamoClient, startEmbeddedDynamo } from '../../lambdas/shared/adapters/local/embedded-dynamodb.js';

export interface TestDynamo {
  endpoint: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

/** An in-memory dynalite with the given tables, for one test file. */
export async function startTestDynamo(tables: CreateTableCommandInput[]): Promise<TestDynamo> {
  const dynamo = await startEmbeddedDynamo();
  const client = localDynamoClient(dynamo.endpoint);
  await ensureTables(client, tables);
  return {
    endpoint: dynamo.endpoint,
    client,
    async stop() {
      client.destroy();
      await dynamo.close();
    },
  };
}
