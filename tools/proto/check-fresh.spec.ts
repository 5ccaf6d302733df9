import { checkGeneratedProto } from './check-fresh';

describe('generated protobuf code', () => {
  it('is lint-clean and matches proto/ (run `npm run proto` after editing a .proto)', () => {
    const { stale, lint } = checkGeneratedProto();
    expect(lint).toBe('');
    expect(stale).toEqual([]);
  });
});
