export * from './auth-context';
export * from './token-signer';
export * from './token-verifier';
export * from './policy';
export * from './policy-table';
