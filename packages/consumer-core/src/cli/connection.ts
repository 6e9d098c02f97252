/** Where the CLI's AWS calls go (real AWS by default; the local twin with endpoint flags). */
export interface AwsConnection {
  readonly region: string;
  readonly kinesisEndpoint: string | undefined;
  readonly dynamoDBEndpoint: string | undefined;
  /** Explicit credentials (the local twin's dummy ones); otherwise the SDK's default chain. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
}
