export * from './checkpoint-schedule';
export * from './output-commit';
export * from './ft-role';
