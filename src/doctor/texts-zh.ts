/**
 * 诊断文字（简体中文）：与 texts-en.ts 同一接口，标题里的数字由规则填入。
 * 证据表格沿用内核与 ss 的术语（TIME_WAIT、Recv-Q、sysctl 名称），不翻译。
 */
import { n } from '../format/number.js';
import type { Closer, DoctorTexts } from './texts-en.js';

const closerText: Record<Closer, string> = {
  server: '本机作为服务端先关闭',
  client: '本机作为客户端先关闭',
  mixed: '本机的服务端和客户端都在先关闭',
  none: '',
};

export const DOCTOR_TEXTS_ZH: DoctorTexts = {
  title: {
    timeWaitMany: ({ count, bucketsPct, closer }) =>
      `${n(count)} 个 TIME_WAIT${bucketsPct === null ? '' : `（占 tcp_max_tw_buckets 的 ${bucketsPct}）`}${closer === 'none' ? '' : `：${closerText[closer]}`}`,
    timeWaitPort: ({ port, count, conns, closer }) =>
      `端口 ${port}：${n(conns)} 个连接中有 ${n(count)} 个处于 TIME_WAIT${closer === 'none' ? '' : `（${closerText[closer]}）`}`,
    timeWaitOverflow: ({ count, seconds }) => `TIME_WAIT 表已满：${seconds} 秒内 TCPTimeWaitOverflow 增加 ${n(count)}（关闭的连接直接跳过 TIME_WAIT）`,
    timeWaitOverflowSinceBoot: ({ count }) => `开机以来 TCPTimeWaitOverflow 共 ${n(count)} 次`,
    ephemeral: ({ destination, local, used, size, pct }) => `从 ${local} 到 ${destination} 已占用 ${n(used)} 个临时端口，共 ${n(size)} 个（${pct}）`,
    closeWait: ({ count, growth, seconds, owner }) =>
      `${n(count)} 个 CLOSE_WAIT${growth === null ? '' : `（${seconds} 秒内 ${growth >= 0 ? '+' : ''}${n(growth)}）`}` +
      (owner === null ? '' : `，其中 ${n(owner.count)} 个属于 ${owner.command}（pid ${owner.pid}）`) +
      '：有应用程序没有关闭套接字',
    finWait1: ({ stuck, total, queued }) => `${n(total)} 个 FIN_WAIT_1 中有 ${n(stuck)} 个还有数据未发出（${queued}）：对端不再读取`,
    finWait2: ({ count, orphans, halfClosed }) => `${n(count)} 个 FIN_WAIT_2（孤儿 ${n(orphans)} 个，半关闭 ${n(halfClosed)} 个）：对端迟迟不关闭自己一侧`,
    synRecv: ({ count, sources, fullPort, backlog }) =>
      `${n(count)} 个 SYN_RECEIVED，来自 ${n(sources)} 个地址` + (fullPort === null ? '' : `；端口 ${fullPort} 的半连接队列已满（backlog ${n(backlog ?? 0)}）`),
    synCookies: ({ count, seconds }) => `${seconds} 秒内发出 ${n(count)} 个 SYN cookie：半连接队列曾经溢出`,
    synCookiesSinceBoot: ({ count }) => `开机以来 SyncookiesSent 共 ${n(count)} 次`,
    acceptQueue: ({ listener, queue, capacity, overflows, seconds }) =>
      `${listener} 的全连接（accept）队列${queue >= capacity ? '已满' : '接近满'}（${n(queue)}/${n(capacity)}）` +
      (overflows === null ? '' : `，${seconds} 秒内 ListenOverflows +${n(overflows)}`) +
      '：应用程序 accept 太慢',
    listenOverflows: ({ overflows, drops, seconds }) => `${seconds} 秒内 ListenOverflows +${n(overflows)}，ListenDrops +${n(drops)}`,
    listenOverflowsSinceBoot: ({ overflows, drops }) => (overflows > 0 ? `开机以来 ListenOverflows 共 ${n(overflows)} 次` : `开机以来 ListenDrops 共 ${n(drops)} 次`),
    synSent: ({ destination, count, retransmits }) =>
      `${n(count)} 个 SYN_SENT 指向 ${destination}${retransmits > 0 ? `（SYN 最多已重传 ${retransmits} 次）` : ''}：对端没有应答`,
    lastAck: ({ count, peers, topPeer }) =>
      `${n(count)} 个 LAST_ACK${topPeer === null ? '' : `（最多的对端 ${topPeer}${peers > 1 ? `，共 ${n(peers)} 个以上对端` : ''}）`}：对端不确认我们的 FIN`,
    orphans: ({ orphans, max, pct }) => `${n(orphans)} 个孤儿套接字，已达 tcp_max_orphans（${n(max)}）的 ${pct}`,
    tcpMemory: ({ pages, pressure, max }) => `TCP 内存已用 ${n(pages)} 页，超过压力线 ${n(pressure)}（上限 ${n(max)}）`,
    abortOnMemory: ({ count, seconds }) => `${seconds} 秒内 TCPAbortOnMemory +${n(count)}：因内存不足而重置连接`,
    abortOnMemorySinceBoot: ({ count }) => `开机以来 TCPAbortOnMemory 共 ${n(count)} 次`,
  },
  advice: {
    'time-wait-pileup': [
      'TIME_WAIT 留在先关闭连接的一方。尽量让客户端先关闭（HTTP keep-alive，服务端等客户端断开），服务端就不会堆积 TIME_WAIT。',
      '复用连接，不要每个请求新建一个：keep-alive、连接池、HTTP/2 多路复用。连接少了，TIME_WAIT 自然就少。',
      '对本机发起的连接，net.ipv4.tcp_tw_reuse=1 可以安全地复用处于 TIME_WAIT 的端口（需开启时间戳）；它对接入的连接不起作用。',
      '不要想办法缩短 TIME_WAIT（Linux 固定为 60 秒），也不要调低 tcp_max_tw_buckets 来掩盖它：TIME_WAIT 防止旧连接的迟到报文混进新连接，每个只占很小的内核结构。',
    ],
    'ephemeral-port-exhaustion': [
      '扩大端口范围：net.ipv4.ip_local_port_range="1024 65535"（本机服务用到的端口用 ip_local_reserved_ports 保留出来）。',
      '把流量分散到更多目标地址或端口，或更多本地源地址：上限是按（源地址，目标地址，目标端口）计算的。',
      '对这个目标使用连接池并复用连接；每个短连接关闭后还要在 TIME_WAIT 里占用端口 60 秒。',
      '对本机发起的连接，net.ipv4.tcp_tw_reuse=1 可以复用 TIME_WAIT 端口。',
    ],
    'close-wait-leak': [
      '对端已经关闭，而本机应用一直没有调用 close()：这是应用程序的缺陷，调任何内核参数都解决不了。',
      '检查上面列出的进程：读套接字时读到 0 字节（EOF）就必须关闭它；在 finally/defer/using 中关闭，覆盖所有出错路径。',
      '连接池：对空闲连接做校验或设置过期，把已被服务端关闭的连接剔除并关闭。',
      '排查是否有线程卡在别处（死锁、下游很慢），一直回不到这个套接字；线程转储（thread dump）能看出来。',
      '重启进程只能暂时释放，代码不修还会再来；放任不管最终会出现 "Too many open files"。',
    ],
    'fin-wait-1-stuck': [
      '对端不再读取数据：它的接收窗口为 0，我们的 FIN 排在未发出的数据后面。看看上面列出的对端：客户端卡住、过载，或已经消失却没有发 RST。',
      '孤儿连接（本机已关闭）会重试 net.ipv4.tcp_orphan_retries 次（0 表示 8 次）后丢弃；繁忙的服务器可以调低（如 2~3）让它们更早释放。',
      '服务端也可以自己限定等待时间：设置发送超时，或用带超时的 SO_LINGER、TCP_USER_TIMEOUT，避免未发出的数据被无限期保留。',
      '如果孤儿数量接近 net.ipv4.tcp_max_orphans，内核会开始重置它们：参见 orphan-pressure。',
    ],
    'fin-wait-2-orphans': [
      '我们的 FIN 已被确认，但对端一直没有发出自己的 FIN：对端应用没有关闭它那一侧。',
      '孤儿连接在 net.ipv4.tcp_fin_timeout（默认 60 秒）后结束；调低到 15~30 秒可以更早释放，对正常的对端没有影响。',
      '半关闭的套接字（本机调用了 shutdown()，没有定时器）会一直等到对端关闭：确保本机应用最终会带超时地 close() 它们。',
    ],
    'syn-recv-flood': [
      '保持开启 SYN cookie（net.ipv4.tcp_syncookies=1）：半连接队列满时，握手状态编码进 SYN-ACK，队列就不会被耗尽。',
      '调整队列大小：listen() 的 backlog、net.core.somaxconn 和 net.ipv4.tcp_max_syn_backlog；减少 SYN-ACK 重传次数（tcp_synack_retries）可以更快腾出半连接位置。',
      '来源地址很多却没有握手完成，像是伪造源地址的 SYN 洪水：应在上游过滤（运营商、负载均衡、SYN 代理），单靠主机不够。',
      '如果来源是真实客户端，说明握手的最后一个 ACK 丢了：检查非对称路由或丢弃回程流量的防火墙。',
    ],
    'accept-queue-overflow': [
      '完成握手的连接在全连接队列里等待应用调用 accept()；队列满了，说明应用 accept 太慢或被阻塞。',
      '让 accept 更轻：单独的 accept 循环、更多工作线程或进程（SO_REUSEPORT），把连接交给别处处理，不要在 accept 循环里直接服务。',
      '按突发流量设置队列：listen() 的 backlog 受 net.core.somaxconn 限制，只调其中一个不会生效。',
      '队列满时最后一个 ACK 被丢弃，客户端要重试：建立连接会慢一秒甚至更多（关注 ListenOverflows）。',
    ],
    'syn-sent-stalled': [
      'SYN 没有得到应答：目标主机宕机、防火墙静默丢弃了 SYN，或者路由不对。从本机检查一下（ping、traceroute、nc -vz）。',
      '端口没开的话对方会立刻回 RST，所以 SYN_SENT 堆积意味着报文丢了，而不是被拒绝。',
      '在应用里设置连接超时并对重试做退避；net.ipv4.tcp_syn_retries 限定内核自身的等待（6 次约 127 秒）。',
    ],
    'last-ack-stuck': [
      '我们回应了对端的 FIN 并发出自己的 FIN，对端却一直不确认：它已经消失了（崩溃、重启，或 NAT、防火墙丢掉了这条连接）。',
      '内核会重传 FIN，在 net.ipv4.tcp_orphan_retries（孤儿）或 tcp_retries2 次后放弃；调低 tcp_orphan_retries 能更早释放。',
      '检查本机与上面这些对端之间的设备：超时很短的防火墙或 NAT 会丢掉连接的收尾报文。',
    ],
    'orphan-pressure': [
      '孤儿套接字是应用已经关闭、但仍在等待对端的连接（FIN_WAIT_1、FIN_WAIT_2、CLOSING、LAST_ACK）。超过 tcp_max_orphans 或 TCP 内存紧张时，内核会直接重置它们（"too many orphaned sockets"）。',
      '先看它们处在哪个状态（见上表），再对症处理：对端不读（fin-wait-1-stuck）或对端不关（fin-wait-2-orphans）。',
      '让它们更早释放：调低 net.ipv4.tcp_orphan_retries 和 net.ipv4.tcp_fin_timeout。',
      '只有在内存充足时才调高 net.ipv4.tcp_max_orphans（每个孤儿最多可占约 64 KB）和 net.ipv4.tcp_mem。',
    ],
  },
  ui: {
    evidence: '证据',
    advice: '建议',
    header: ({ findings, sockets, rules, sampled, where }) =>
      `tcpstate doctor：${findings === 0 ? '没有发现问题' : `发现 ${n(findings)} 项`} —— ${n(rules)} 条规则，${n(sockets)} 个套接字` +
      `${sampled > 0 ? `，采样 ${sampled} 秒` : ''}${where === '' ? '' : `，命名空间 ${where}`}`,
    allClear: 'OK：各条规则都没有发现需要报告的情况。',
    severity: { ok: 'OK', info: '提示', warning: '警告', critical: '严重' },
  },
};
