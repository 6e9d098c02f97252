import { ProblemList } from '@shardline/common';
import { Token } from 'aws-cdk-lib';

/**
 * The problem list of a construct's props (`Invalid ${construct} props …` when thrown). Values that are
 * CDK tokens (resolved at deploy time) are not checked.
 */
export function propsProblems(construct: string): ProblemList {
  return new ProblemList(`${construct} props`, { isUnchecked: (value) => Token.isUnresolved(value) });
}
