import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';

const CredentialsSchema = z.object({ username: z.string().min(1), password: z.string().min(1) });

/** A plain text secret as Secrets Manager generates one (the PII hash secret). */
export async function readSecretText(client: SecretsManagerClient, secretArn: string): Promise<string> {
  const secret = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  if (!secret.SecretString) throw new Error(`Secret ${secretArn} has no text.`);
  return secret.SecretString;
}

/** The `{username, password}` secret that RDS generates for a cluster. */
export async function readDatabaseCredentials(client: SecretsManagerClient, secretArn: string): Promise<z.infer<typeof CredentialsSchema>> {
  const secret = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const parsed = CredentialsSchema.safeParse(JSON.parse(secret.SecretString ?? '{}'));
  if (!parsed.success) throw new Error(`Secret ${secretArn} has no username and password.`);
  return parsed.data;
}
