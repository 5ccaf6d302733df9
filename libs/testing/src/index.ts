export * from './fake-clock';
export * from './wait-for';
export * from './free-port';
export * from './server-handle';
export * from './redis-server';
export * from './nats-server';
export * from './tcp-proxy';
export * from './thrown';
