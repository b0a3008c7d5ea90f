/**
 * 简体中文文本：`tcpstate explain` 对每个状态的说明，以及页面上的标题和标签。
 * 与英文版（texts-en.ts）讲的是同样的事实，但按中文的习惯来写，不逐句对译。
 */
import type { Labels, StateTexts } from './texts-en.js';

export const LABELS_ZH: Labels = {
  overviewTitle: 'TCP 连接的 11 个状态（按状态图顺序）',
  overviewHint:
    '用 `tcpstate explain 状态名` 查看单个状态的详解；状态名可以按 RFC、ss 或 netstat 的写法输入（estab、syn-recv、time-wait 等）。',
  rowLifetime: '持续时间',
  rowMany: '大量出现',
  knownAs: '各种叫法',
  nameRfc: 'RFC',
  nameSs: 'ss',
  nameNetstat: 'netstat',
  nameLinux: 'Linux 状态号',
  nameId: 'id',
  acceptedSpellings: '可接受的输入（不分大小写，- 和 _ 可有可无）',
  linuxNewSynRecv: '监听套接字名下的请求套接字为 12（NEW_SYN_RECV）',
  linuxBoundInactive: '只绑定了端口的套接字为 13（BOUND_INACTIVE）',
  meaning: '含义',
  howEntered: '如何进入',
  whoIs: '谁会进入',
  who: { client: '客户端', server: '服务端', either: '任意一方' },
  howLeft: '如何离开',
  lifetimeOnLinux: '在 Linux 上持续多久',
  inProduction: '大量出现意味着什么',
  whatToDo: '怎么办',
  neighbours: '状态图中的相邻状态',
  incoming: '从这些状态进入',
  outgoing: '离开后去往',
  noEdges: '（无）',
  sends: '发送',
  kindReset: '复位',
  kindAbort: '中止',
  kindTimeout: '超时',
  linuxOnly: 'Linux',
  legend: '[复位]、[中止]、[超时]：经典状态图之外的边；[Linux]：Linux 内核在 RFC 之外的行为。事件名沿用 RFC 状态图的英文写法。',
  tryIt: '动手试试',
  punct: { colon: '：', comma: '、', semicolon: '；', open: '（', close: '）' },
};

export const TEXTS_ZH: StateTexts = {
  CLOSED: {
    summary: '没有连接：每条连接从这里开始，也在这里结束。',
    meaning:
      'CLOSED 表示连接根本不存在，RFC 称之为“虚构”的状态，因为此时没有任何连接记录。在 Linux 上，' +
      '一个 TCP 套接字只要还作为文件描述符存在、却既不监听也没有连接，就报告状态 7（CLOSE）：可能刚创建，' +
      '可能只绑定了端口还没用，也可能连接已因复位、connect() 失败或超时而结束，但应用手里还攥着这个描述符。',
    howEntered: {
      who: 'either',
      how:
        '所有套接字都从这里起步。连接最后也回到这里：LAST-ACK 收到最后的 ACK、TIME-WAIT 计时到期，' +
        '或者在任何状态下收到 RST、被中止、重传次数耗尽。',
    },
    howLeft: '服务端调用 listen() 进入 LISTEN；客户端调用 connect() 发出 SYN，进入 SYN-SENT。描述符一关，这个套接字就彻底消失。',
    lifetimeBrief: '直到描述符被关闭（没有定时器）',
    lifetimeOnLinux:
      '没有任何定时器：应用不关描述符，状态 7 的套接字就一直在。ss 和 /proc/net/tcp 只列出内核查找表里的套接字，' +
      '所以普通的已关闭套接字在那里通常看不到。较新的内核会把“已绑定、但既不监听也未连接”的套接字报告为状态 13' +
      '（BOUND_INACTIVE），工具里显示为 CLOSED。',
    productionBrief: '连接已死、描述符还留着：检查出错分支',
    inProduction:
      '某个进程的套接字描述符越来越多，活动连接却没有增加，多半就是在泄漏已关闭的套接字：连接失败或被复位之后，' +
      '代码没有关闭描述符。攒到上限，进程就会报“Too many open files”。预先绑定大量端口的程序也会持有这类套接字。',
    whatToDo: [
      '把进程持有的套接字描述符（`ls -l /proc/PID/fd`、`lsof -p PID`）和它的活动连接（`tcpstate ls`）对比，差距越拉越大就是描述符泄漏。',
      '每条出错分支都要关闭套接字，包括 connect() 失败之后和收到复位之后。',
      '内核参数帮不上忙：应用自己攥着的东西，没有哪个 sysctl 能替它放手。',
    ],
  },

  LISTEN: {
    summary: '服务端的套接字，等着别人来连。',
    meaning:
      '套接字占住了本地地址和端口，接受任何人发来的 SYN。它自己从不传数据：每完成一次握手，内核就另建一个已连接的' +
      '新套接字，由应用用 accept() 取走。Linux 上每个监听套接字带两个队列：半连接请求排在 SYN 队列里，' +
      '握手已完成、等着被 accept() 的连接排在全连接队列（accept 队列）里。',
    howEntered: {
      who: 'server',
      how:
        '服务端对一个 CLOSED 套接字调用 bind() 和 listen()。在 RFC 的模型里，处于 SYN-RECEIVED 的半开连接被复位后也会退回' +
        ' LISTEN；而在 Linux 上，监听套接字本来就从未离开 LISTEN。',
    },
    howLeft: '只有应用调用 close() 或进程退出，才会让它回到 CLOSED。收到 SYN 不会改变监听套接字本身的状态：Linux 是在它旁边另建请求套接字。',
    lifetimeBrief: '直到服务端关闭它（没有定时器）',
    lifetimeOnLinux:
      '没有定时器，进程开着它多久就存在多久。对监听套接字，ss 的 Recv-Q 是 accept 队列的当前长度，Send-Q 是队列上限。' +
      '上限取 listen() 传入的 backlog，但不超过 net.core.somaxconn（从 5.4 内核起默认 4096，之前是 128）。',
    productionBrief: '每个服务端口一个；队列满说明应用 accept() 太慢',
    inProduction:
      '监听套接字的数量等于服务和端口的数量，平时几乎不变；少了一个，说明服务挂了或者绑到了别的地址。真正要盯的是队列：' +
      'Recv-Q 接近 Send-Q，说明应用 accept() 跟不上，新的握手正在被丢弃（ListenOverflows 和 ListenDrops 计数会上涨）。',
    whatToDo: [
      '`ss -ltnp` 能列出每个监听套接字、所属进程和队列情况。',
      'accept 队列满了，先让应用接得更快（增加接收线程或 worker，accept 循环里别做阻塞操作），再一起调大 listen() 的 backlog 和 net.core.somaxconn。',
      '用 `nstat -az TcpExtListenOverflows TcpExtListenDrops` 查看丢弃计数；`tcpstate doctor` 也会读取它们。',
    ],
  },

  SYN_SENT: {
    summary: '客户端已发出 SYN，正等服务端回应。',
    meaning: '三次握手的第一步已经发出。套接字知道要连到哪里，但还没收到任何回音，这时不能传数据。正常情况下只持续一个往返时间。',
    howEntered: {
      who: 'client',
      how:
        '应用对 CLOSED 套接字调用 connect()（即 RFC 中的主动打开，active OPEN）。如果事先没有绑定端口，内核先挑一个临时端口，' +
        '然后发出 SYN，并启动重传定时器。',
    },
    howLeft:
      '收到服务端的 SYN-ACK，回一个 ACK，握手完成，进入 ESTABLISHED。对方若回 RST，说明那里没人监听：connect() 以' +
      ' ECONNREFUSED 失败，套接字回到 CLOSED。收到 ICMP 不可达同样会中止这次尝试。如果对方也恰好发来一个单独的 SYN' +
      '（同时打开，很少见），则转入 SYN-RECEIVED。一直没有回应，最终超时。',
    lifetimeBrief: '最多约 127 秒（tcp_syn_retries = 6）',
    lifetimeOnLinux:
      '上限由 net.ipv4.tcp_syn_retries 决定，默认 6 次：SYN 分别在 1、2、4、8、16、32 秒后重发（间隔每次翻倍），' +
      '最后再等 64 秒，connect() 以 ETIMEDOUT 失败，前后约 127 秒。套接字上的 TCP_USER_TIMEOUT 或应用自己的连接超时可以让它更早结束。',
    productionBrief: '目标宕机、SYN 被丢弃，或对方的监听队列已满',
    inProduction:
      '繁忙的客户端上偶尔有几个很正常。大量堆积、又都指向同一个目标，说明对方不回应：主机宕机、防火墙悄悄丢掉了 SYN，' +
      '或者服务端 accept 队列已满、不再理会新的 SYN。如果同一个进程连向大量不同地址，可能是扫描器或出了毛病的程序。' +
      '每个卡住的 connect() 都会把一个线程或请求拖上两分钟，问题会一路往上游蔓延。',
    whatToDo: [
      '按目标地址归类（`ss -tn state syn-sent` 或 `tcpstate ls`），看是哪个对端不回应。',
      '检查链路：从这台机器能连通那个端口吗（`nc -vz HOST PORT`）？防火墙是不是用“丢弃”代替了“拒绝”？',
      '在应用里给连接设一个与业务相称的超时，别干等内核的两分钟；调低 net.ipv4.tcp_syn_retries 可以在整台主机上达到同样效果。',
      '如果根子在服务端的监听队列，就到服务端去解决（参见 LISTEN 和 SYN-RECEIVED）。',
    ],
  },

  SYN_RECEIVED: {
    summary: '服务端已用 SYN-ACK 回应了 SYN，正等客户端最后一个 ACK。',
    meaning:
      '握手的第二步已经完成：服务端收到客户端的 SYN，回了自己的 SYN 并捎带 ACK，只差第三个包。在 Linux 上，' +
      '这个阶段的连接并不是完整的套接字，而是挂在监听套接字 SYN 队列里的一个小小的请求套接字（“迷你套接字”，' +
      '状态 12，NEW_SYN_RECV），ss 把它显示为 SYN-RECV。只有 TCP Fast Open 和同时打开才会用到处于状态 3 的完整套接字。',
    howEntered: {
      who: 'server',
      how: 'SYN 到达监听端口，内核回复 SYN-ACK 并记下这个请求。少数情况下两端同时发出 SYN（同时打开），处于 SYN-SENT 的客户端也会来到这里。',
    },
    howLeft:
      '客户端的 ACK 到达，握手完成：内核创建真正的已连接套接字（ESTABLISHED），放进 accept 队列。如果队列已满，' +
      'Linux 会丢掉这个 ACK（若开启了 net.ipv4.tcp_abort_on_overflow 则回 RST），请求继续留在这里。收到客户端的 RST，' +
      '或者 SYN-ACK 重传次数用完，请求就被删掉，监听照常进行。（RFC 还允许在这里调用 CLOSE，发出 FIN 进入 FIN-WAIT-1。）',
    lifetimeBrief: '最多约 63 秒（tcp_synack_retries = 5）',
    lifetimeOnLinux:
      '这个请求作为监听套接字名下的迷你套接字（状态 12，NEW_SYN_RECV）存在，寿命上限由 net.ipv4.tcp_synack_retries 决定，' +
      '默认 5 次：SYN-ACK 在 1、2、4、8、16 秒后重发，最后再等 32 秒就丢弃请求，' +
      '从收到 SYN 算起约 63 秒。一个监听套接字能挂多少半开请求，受它的 backlog 限制（关闭 SYN cookies 时还受' +
      ' net.ipv4.tcp_max_syn_backlog 限制）；队列溢出时，SYN cookies（net.ipv4.tcp_syncookies = 1，默认开启）让内核' +
      '不保存请求也能作出回应。',
    productionBrief: 'SYN 洪水，或客户端的 ACK 丢了；保持 SYN cookies 开启',
    inProduction:
      '繁忙的服务器上随时有几个很正常，每个只活一个往返时间。成千上万则意味着：要么是 SYN 洪水攻击（伪造的源地址' +
      '永远不会发来最后的 ACK，地址往往五花八门），要么链路丢了客户端的 ACK，要么 accept 队列已满，完成的握手被丢弃，' +
      'SYN-ACK 只好一遍遍重发。',
    whatToDo: [
      '看看来源地址（`ss -tn state syn-recv`）：大量互不相干的地址像是洪水攻击；只有几个真实客户端，则更像 ACK 丢失或队列问题。',
      '保持 SYN cookies 开启（net.ipv4.tcp_syncookies = 1）；遭受洪水时，TcpExtSyncookiesSent 计数会上涨。',
      '检查监听套接字的 accept 队列（`ss -ltn` 里 Recv-Q 与 Send-Q 的对比），以及 backlog 与 net.core.somaxconn；队列满了，先给 accept 循环提速。',
      '真正的洪水最好在到达主机之前就挡住：上游限速或 DDoS 防护。',
    ],
  },

  ESTABLISHED: {
    summary: '连接已经建立，双向都能传数据。',
    meaning:
      '这一端的握手已经完成，连接进入工作状态：两端都能收发，一条连接一生中几乎所有的数据都在这里传输。' +
      '它不代表此刻有没有流量：空闲的连接同样是 ESTABLISHED。',
    howEntered: {
      who: 'either',
      how: '客户端在收到服务端的 SYN-ACK、回复最后那个 ACK 时进入；服务端在客户端的 ACK 完成握手、为 accept() 建好新套接字时进入。',
    },
    howLeft:
      '先调用 close()（或对写方向 shutdown()）的一方发出 FIN，进入 FIN-WAIT-1，成为主动关闭方；收到这个 FIN 的一方' +
      '确认它并进入 CLOSE-WAIT，成为被动关闭方。收到 RST、被中止（带着未读数据调用 close()，Linux 会直接发 RST）' +
      '或重传耗尽，则立即进入 CLOSED。',
    lifetimeBrief: '不限时；开启 keepalive 才会探测（静默 7200 秒后）',
    lifetimeOnLinux:
      '不限时：空闲连接可以在 ESTABLISHED 里待上几个月。如果应用设置了 SO_KEEPALIVE，连接静默' +
      ' net.ipv4.tcp_keepalive_time（7200 秒）后内核开始探测，此后每隔 tcp_keepalive_intvl（75 秒）探一次，' +
      '连续 tcp_keepalive_probes（9）次无应答才放弃，发现对端已死大约要 2 小时 11 分钟。若有数据发出后一直没被确认，' +
      '重传 net.ipv4.tcp_retries2（15）次后连接结束，约 15 分钟。TCP_USER_TIMEOUT 可以把这两个时间都缩短。',
    productionBrief: '随并发量变化；超出并发说明连接池不释放或对端太慢',
    inProduction:
      '数量跟着客户端数和连接池里的连接数走。流量没涨、数量却一路上升，说明有客户端只开连接、既不复用也不释放，' +
      '或者连接池没有上限，又或者后端太慢把请求压住了。Send-Q 很大说明对端跟不上；Recv-Q 很大说明本机应用没在读。',
    whatToDo: [
      '按端口和对端拆分数量（`tcpstate ls`、`ss -tn state established`），找出是谁占着连接。',
      '给连接池设上限，并在应用里给空闲连接设超时。',
      '中间如果有会“忘记”空闲流的 NAT 或防火墙，就开启 keepalive，并把时间设得比它们的空闲超时短：死连接能被发现，活连接也不会被掐断。',
      '`tcpstate doctor` 会替你检查数量和队列。',
    ],
  },

  FIN_WAIT_1: {
    summary: '本端已发出 FIN，正等它被确认。',
    meaning:
      '应用表示不再发送数据，内核把 FIN 排在发送缓冲区剩余数据的后面。对端确认这个 FIN 之前，本端都处于 FIN-WAIT-1，' +
      '但仍然可以接收数据。这是主动关闭方经过的第一个状态。',
    howEntered: {
      who: 'either',
      how: '先关闭的一方，客户端和服务端都有可能：在 ESTABLISHED（或 SYN-RECEIVED）中调用 close() 或 shutdown(SHUT_WR)，发出 FIN。',
    },
    howLeft:
      '收到对 FIN 的 ACK，进入 FIN-WAIT-2。如果 ACK 还没到、对端的 FIN 先来了，说明双方在同时关闭：确认它并进入 CLOSING。' +
      '如果一个报文同时带来对端的 FIN 和对我方 FIN 的确认，就直接进入 TIME-WAIT。收到 RST、close() 之后又收到数据' +
      '（Linux 会回 RST），或者重传耗尽，都会进入 CLOSED。',
    lifetimeBrief: '通常一个往返；对端通告零窗口时会卡住',
    lifetimeOnLinux:
      '通常只有一个往返时间。FIN 和数据一样会重传。如果应用已经调用了 close()，套接字就成了孤儿，上限是' +
      ' net.ipv4.tcp_orphan_retries，默认 0，内核把 0 当作 8（在最小 RTO 下超过 100 秒）；内存紧张或孤儿总数超过' +
      ' net.ipv4.tcp_max_orphans 时，孤儿还会被提前清理。如果应用只调用了 shutdown()、仍持有套接字，则按' +
      ' net.ipv4.tcp_retries2（15 次，约 15 分钟）。对端通告零窗口时，FIN 根本发不出去，内核改发零窗口探测：' +
      '孤儿几分钟后就会放弃，而应用仍持有的套接字只要对端一直回应探测就会一直探下去，除非设置了 TCP_USER_TIMEOUT。',
    productionBrief: '对端不再读数据（零窗口）或已经消失；找出这些对端',
    inProduction:
      '大量长时间停在 FIN-WAIT-1 的套接字，几乎都是还有数据要发给一个不再读取的对端：对端的接收窗口为零，' +
      '剩下的数据和 FIN 都出不去。常见的是卡死或过载的客户端，以及躲在“什么都丢”的防火墙后面、已经消失的对端。' +
      '每一个都把没发出去的发送缓冲压在内核内存里。',
    whatToDo: [
      '连同队列和定时器一起列出来：`ss -tno state fin-wait-1`；Send-Q 很大、定时器显示 persist（`timer:(persist,...)`），就证实是零窗口。',
      '按对端归类，看是不是某个客户端或某个网络造成的，再到那边解决或直接封掉。',
      '给应用的写操作设超时，让它尽早发现对端不再读取，早点关闭连接。',
      'net.ipv4.tcp_orphan_retries 决定孤儿能拖多久；服务器被这种方式拖住时，调低它是合理的最后一招。',
      '用 `tcpstate lab FIN_WAIT_1` 亲手复现。',
    ],
  },

  FIN_WAIT_2: {
    summary: '本端的 FIN 已被确认，等对端关闭它那一半。',
    meaning:
      '我方这个方向已经结束，对端也确认了。连接处于半关闭：对端仍然可以发数据，应用若还留着套接字，本端照样能读。' +
      '对端发来自己的 FIN，这个状态就结束。',
    howEntered: {
      who: 'either',
      how: '主动关闭方（客户端或服务端）在 FIN-WAIT-1 收到对自己 FIN 的 ACK 后来到这里。',
    },
    howLeft:
      '对端的 FIN 到达，确认之后进入 TIME-WAIT。在 Linux 上，孤儿套接字等得太久会被 tcp_fin_timeout 定时器删掉；' +
      '收到 RST，或者 close() 之后又收到数据（会回 RST），也会进入 CLOSED。',
    lifetimeBrief: '孤儿：tcp_fin_timeout（60 秒）；shutdown() 之后：不限时',
    lifetimeOnLinux:
      '取决于谁还持有套接字。应用已调用 close() 时，它是孤儿，Linux 在 net.ipv4.tcp_fin_timeout 秒（默认 60）后把它删掉；' +
      '等待期间内核可能用一个类似 TIME-WAIT 的小记录来保存它，ss 仍显示为 FIN-WAIT-2。如果应用只调用了' +
      ' shutdown(SHUT_WR)，还开着套接字读剩下的数据，就没有任何定时器：对端不关，它就一直在，除非 keepalive 或' +
      ' TCP_USER_TIMEOUT 把它结束。套接字选项 TCP_LINGER2 可以覆盖 tcp_fin_timeout。',
    productionBrief: '对端始终不关自己那一半：去对端找 CLOSE-WAIT',
    inProduction:
      '大量 FIN-WAIT-2 说明对端确认了我方的 FIN，却迟迟不关闭自己那一半。这时对端通常卡在 CLOSE-WAIT，' +
      '它的应用有泄漏。如果用 shutdown() 做半关闭，也可能是本机应用读完数据后忘了关闭套接字。',
    whatToDo: [
      '按对端归类（`ss -tn state fin-wait-2`），再到对端主机上看：在那里执行 `ss -tanp state close-wait`，多半能找到泄漏的进程。',
      '在本端，用 shutdown() 半关闭的套接字，读完对端的数据后一定要 close()。',
      'net.ipv4.tcp_fin_timeout 只缩短孤儿的等待时间；不管有些文章怎么说，它都改变不了 TIME-WAIT。',
    ],
  },

  CLOSE_WAIT: {
    summary: '对端已经关闭了它那一半；本机应用还没关。',
    meaning:
      '收到了 FIN，内核已经确认：对端不会再发数据，缓冲区里的数据读完之后，read() 返回 0（文件结束）。' +
      '连接现在等的是本地应用：它还可以把要发的数据发完，然后必须调用 close() 或 shutdown()。这是被动关闭方的第一个状态。',
    howEntered: {
      who: 'either',
      how: '被动关闭方，客户端和服务端都有可能：在 ESTABLISHED 中收到对端的 FIN。',
    },
    howLeft:
      '只有应用能让它往前走：close() 发出我方的 FIN，套接字进入 LAST-ACK。对端的 RST（比如回应之后的写操作或' +
      ' keepalive 探测）或中止会把它变成 CLOSED，但描述符要等应用关闭才会释放。close() 时如果还有没读的数据，' +
      'Linux 发的是 RST 而不是 FIN。',
    lifetimeBrief: '不限时：只有应用的 close() 能结束它',
    lifetimeOnLinux:
      '不限时。没有哪个内核定时器会自行结束 CLOSE-WAIT，只有应用调用 close() 才行。keepalive 探测或一次写操作' +
      '可能发现对端已经不在并复位连接，但文件描述符照样泄漏着。调哪个 sysctl 都没用。',
    productionBrief: '泄漏：应用从不调用 close()；找出是哪个进程',
    inProduction:
      '赖着不走的 CLOSE-WAIT 是应用的 bug：程序读到了文件结束（或者再也没去读），却没有关闭套接字。常见原因有：' +
      '出错分支漏了 close()，连接池里留着服务端早已关掉的连接，线程卡在别处。它们会一直累积，直到进程耗尽描述符' +
      '（“Too many open files”），再也无法提供服务。',
    whatToDo: [
      '找出主人：`ss -tanp state close-wait` 会显示进程和对端；`tcpstate ls` 会按进程和端口归类。',
      '修代码：把读到 0 字节当作对端已关闭，随即关闭套接字；在 finally/defer 里关闭；让连接池校验或淘汰空闲连接。',
      '重启进程能暂时把它们释放掉，但 bug 不修还会回来。',
      '调内核参数没用：tcp_fin_timeout 和 keepalive 都释放不了应用仍然持有的描述符。',
      '用 `tcpstate lab CLOSE_WAIT` 看它是怎么产生的。',
    ],
  },

  CLOSING: {
    summary: '双方同时发出了 FIN；本端在等对自己那个 FIN 的确认。',
    meaning:
      '同时关闭时才会出现的少见状态：本端发出 FIN 后，还没等到确认，对端的 FIN 就到了。本端已经确认了对方的 FIN，' +
      '现在只差对自己那个 FIN 的 ACK。',
    howEntered: {
      who: 'either',
      how: '两端都会经过：在 FIN-WAIT-1 中，对端的 FIN 比对我方 FIN 的 ACK 先到，两边的 close() 在网络上擦肩而过。',
    },
    howLeft: '收到对我方 FIN 的 ACK，进入 TIME-WAIT（同时关闭时两端都要经过 TIME-WAIT）。收到 RST、被中止或重传耗尽，则进入 CLOSED。',
    lifetimeBrief: '一个往返；受 FIN 重传次数限制',
    lifetimeOnLinux:
      '通常一个往返时间。ACK 如果丢了，FIN 会一直重传，直到被确认或次数用完：孤儿套接字按' +
      ' net.ipv4.tcp_orphan_retries（0 表示 8），否则按 tcp_retries2（15）。',
    productionBrief: '少见；大量出现说明 ACK 丢失，或对端在关闭途中消失',
    inProduction:
      '平时很少能看到几个以上。数量多或者迟迟不消失，说明 ACK 在链路上丢了，或者对端发完 FIN 就没了踪影；' +
      '检查两台主机之间的丢包和防火墙。',
    whatToDo: [
      '检查链路丢包，以及会丢弃“关闭中”连接报文的防火墙。',
      '重传耗尽后它们会自行消失；只有源源不断地出现才值得深究。',
      '用 `tcpstate lab CLOSING` 一步步观察同时关闭。',
    ],
  },

  LAST_ACK: {
    summary: '被动关闭方已发出 FIN，等最后一个 ACK。',
    meaning: '两个方向都已关闭：对端先关，本端随后也关了。只差对端确认我方的 FIN；确认一到，连接就消失，本端不经过 TIME-WAIT。',
    howEntered: {
      who: 'either',
      how: '被动关闭方在 CLOSE-WAIT 中，应用调用 close()、发出 FIN 之后进入。',
    },
    howLeft: '收到对 FIN 的 ACK，套接字进入 CLOSED 并立即释放。收到 RST（已经忘掉这条连接的对端会这样回应）、被中止或重传耗尽，也会结束。',
    lifetimeBrief: '一个往返；受 FIN 重传次数限制',
    lifetimeOnLinux:
      '通常一个往返时间。否则 FIN 按指数退避重传。此时套接字一般已是孤儿，上限由 net.ipv4.tcp_orphan_retries' +
      '（默认 0，即 8）决定；应用仍持有时按 tcp_retries2（15）。如果还有数据被零窗口挡着，则走零窗口探测。',
    productionBrief: '对端在最后的 ACK 之前消失了（NAT、防火墙、崩溃）',
    inProduction:
      '大量 LAST-ACK 说明我方的 FIN 没人应答：对端在发出自己的 FIN 之后、确认我方 FIN 之前消失了（崩溃、断网，' +
      '或者 NAT、防火墙里的状态过期），或者防火墙丢弃了关闭中连接的报文。重传结束后它们通常会清掉，' +
      '但数量一直居高不下，就说明网络有问题。',
    whatToDo: [
      '按对端归类（`ss -tn state last-ack`），看是否集中在某个网络或中间设备上。',
      '检查有状态防火墙和 NAT：它们对空闲流或关闭中的流设的超时，是否比一次关闭所需的时间还短。',
      '调低 net.ipv4.tcp_orphan_retries 能缩短它们的停留时间，但治标不治本。',
      '用 `tcpstate lab LAST_ACK` 从被动关闭方的角度观察一次关闭。',
    ],
  },

  TIME_WAIT: {
    summary: '先关闭的一方等旧报文散尽，然后才彻底忘掉这条连接。',
    meaning:
      '两个 FIN 都已确认，连接已经结束，但先关闭的一方（主动关闭方）还要把这组地址和端口保留一段时间。这段等待有两个用处：' +
      '万一我方最后的 ACK 丢了，对端会重发 FIN，我方还能再确认一次；同时让这条连接滞留在网络里的迟到报文自然消亡，' +
      '免得同样地址和端口的新连接把它们当成自己的。RFC 要求等待两倍的最大报文段生存时间（2MSL）。',
    howEntered: {
      who: 'either',
      how:
        '主动关闭方，客户端和服务端都有可能：在 FIN-WAIT-2 收到对端的 FIN，在 CLOSING 收到对我方 FIN 的 ACK，' +
        '或者在 FIN-WAIT-1 收到同时带着这两样的报文。',
    },
    howLeft:
      '定时器到期，连接被删除（CLOSED）。在 Linux 上，TIME-WAIT 中收到 RST 也会立刻结束它（除非设置了' +
      ' net.ipv4.tcp_rfc1337 = 1）。在服务端，同一组地址和端口来了新的 SYN，如果它的序号或时间戳表明它更新，也能直接接管这个位置。',
    lifetimeBrief: '固定 60 秒（TCP_TIMEWAIT_LEN），不可调',
    lifetimeOnLinux:
      '恰好 60 秒，由内核源码里的 TCP_TIMEWAIT_LEN 写死，不是 sysctl：net.ipv4.tcp_fin_timeout 改不了它。' +
      '此时留下的只是一个很小的 timewait 记录，不是完整的套接字；总数最多为 net.ipv4.tcp_max_tw_buckets，' +
      '超出后新的记录会被立即销毁，并计入 TcpExtTCPTimeWaitOverflow。',
    productionBrief: '在先关闭的一方属于正常；该做的是复用连接',
    inProduction:
      '几万个 TIME-WAIT 很常见，通常也无害。先关闭连接的服务器（不用 keep-alive 的 HTTP、空闲超时）每关一条连接就留下一个，' +
      '保留一分钟，所以 40,000 个只相当于每秒关闭约 670 条连接，而且每个占的内存很少。真正吃亏的是频繁向同一目标建立短连接的一方：' +
      '每个 TIME-WAIT 占住一个本地端口 60 秒，在默认端口范围（32768-60999，约 28,000 个）下，连向同一地址和端口的新连接' +
      '每秒最多约 470 条，再多 connect() 就会以 EADDRNOTAVAIL（“Cannot assign requested address”）失败。',
    whatToDo: [
      '复用连接：HTTP keep-alive、连接池、代理到上游的长连接。关得少，TIME-WAIT 自然就少。',
      '想清楚谁先关：先关的一方承担 TIME-WAIT，让客户端先关，就能把它们分散到众多客户端上，而不是全堆在一台服务器上。',
      '客户端端口不够用时：扩大 net.ipv4.ip_local_port_range，并考虑 net.ipv4.tcp_tw_reuse = 1。它在 TCP 时间戳能保证安全时，' +
        '让新的出向连接复用处于 TIME-WAIT 的端口，对入向连接毫无作用（默认值 2 只对回环地址生效）。',
      '别想着缩短 TIME-WAIT（超时为零的 SO_LINGER、发 RST 之类的技巧，或者已被移除、曾让 NAT 后面的客户端连不上的' +
        ' tcp_tw_recycle）：它存在的意义，就是保护下一条连接不受旧报文干扰。',
      '用 `ss -s` 或 `tcpstate ls` 计数，让 `tcpstate doctor` 判断它们在这台机器上算不算问题。',
    ],
  },
};
