import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  ReferencePipelineStack,
  type ReferencePipelineStackProps,
} from '../../src/stacks/ReferencePipelineStack.js';

/** The CORS origin the reference stack of the tests allows. */
export const TEST_ORIGIN = 'https://shop.example.com';

/**
 * The reference stack as a template, without bundling the functions (assertions do not need the code;
 * `tests/unit/synth.test.ts` runs the real synth).
 */
export function referenceTemplate(props: Partial<ReferencePipelineStackProps> = {}): {
  stack: ReferencePipelineStack;
  template: Template;
} {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ReferencePipelineStack(app, 'Test', {
    env: { account: '111111111111', region: 'eu-west-1' },
    allowedOrigins: [TEST_ORIGIN],
    ...props,
  });
  return { stack, template: Template.fromStack(stack) };
}
