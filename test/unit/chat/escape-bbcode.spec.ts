import 'reflect-metadata';
import { escapeBBCode } from '../../../src/chat/chat.dto';

describe('escapeBBCode', () => {
  it('breaks every BBCode tag the appliance renders, so a user sees what they typed', () => {
    expect(escapeBBCode('[b]x[/b] [url]http://a[/url] [color=red]r[/color] [ul][li]i[/li][/ul]')).toBe(
      '[\u200Bb]x[\u200B/b] [\u200Burl]http://a[\u200B/url] [\u200Bcolor=red]r[\u200B/color] [\u200Bul][\u200Bli]i[\u200B/li][\u200B/ul]',
    );
  });

  it('leaves other brackets alone', () => {
    expect(escapeBBCode('array[0] and [note] and [bold]')).toBe('array[0] and [note] and [bold]');
  });
});
