// A browser's top-level navigation to an address: a plain GET with the fetch metadata a browser
// sends for one (`Sec-Fetch-Mode: navigate`, `Sec-Fetch-Dest: document`). Node's fetch() cannot
// make one (it always says `Sec-Fetch-Mode: cors`, as a page's request does), and TokenDesk's
// redirect listener refuses what a web page's request looks like.
import http from 'node:http';

export function navigate(address, { timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(
      address,
      {
        headers: {
          accept: 'text/html',
          'sec-fetch-mode': 'navigate',
          'sec-fetch-dest': 'document',
          'sec-fetch-site': 'cross-site',
        },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
