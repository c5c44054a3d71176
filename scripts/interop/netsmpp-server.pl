#!/usr/bin/perl
# Interop probe: Net::SMPP (Debian libnet-smpp-perl) as an SMSC that an SMPP client (smppgw's)
# binds to.
#
#   netsmpp-server.pl HOST PORT [key=value …]
#
#   PORT 0 listens on a free port; the first line out is {"ev":"listening","port":N}.
#   system_id=ID       the system_id a bind must carry (default smppgw)
#   password=PW        the password a bind must carry (default secret)
#   conns=N            serve N connections, one after the other, then exit (default 1)
#   deliver_delay_ms=M after a receiver/transceiver bind, wait M ms, then send two deliver_sm
#                      (a delivery receipt with TLVs, and a binary UCS-2 MO) and an enquire_link.
#                      0 sends them in the same write() as the bind_resp, so that the client
#                      reads them all at once (default 200)
#   limit_s=S          the whole run ends within S seconds (default 8)
#
# Per connection: a bind with the right credentials is answered ESME_ROK (system_id "perlsmsc"),
# a wrong system_id ESME_RINVSYSID, a wrong password ESME_RINVPASWD (Net::SMPP sends the body,
# system_id, even then). submit_sm is answered message_id perl-<n>, except destination_addr "000":
# ESME_RINVDSTADR (again with a body, message_id ''). query_sm → query_sm_resp (state DELIVERED),
# enquire_link → enquire_link_resp, unbind → unbind_resp, then the connection ends when the client
# closes it. Anything else gets generic_nack ESME_RINVCMDID.
#
# Output: JSON lines on stdout, as netsmpp-client.pl writes them (ev sent/recv/answered), plus
#   {"ev":"accepted","conn":n} {"ev":"conn_end","conn":n,"reason":…} {"ev":"done","ok":1}
#   {"ev":"error","message":…} then exit 1 (timeouts included).
# Every wait is bounded by select() with a deadline; SO_RCVTIMEO keeps read_pdu() from hanging on a
# half-sent PDU (read_hard() resets alarm(), so alarm cannot be the watchdog).
#
# Net::SMPP quirks seen from this side:
# - accept() returns a Net::SMPP object that copies the listener's settings (Net::SMPP::new).
# - Responses are built by resp_backend(); the caller must pass seq, and submit_sm_resp /
#   deliver_sm_resp croak without message_id. Error responses always carry the body.
# - encode_query_sm_resp_v34 starts with message_id '2' (harmless when message_id is passed).
# - Named TLVs take raw bytes: receipted_message_id needs its own trailing NUL.
use strict;
use warnings;
use Net::SMPP;
use IO::Select;
use JSON::PP;
use Socket qw(SOL_SOCKET SO_RCVTIMEO);
use Time::HiRes qw(time);

$| = 1;
$SIG{PIPE} = 'IGNORE';

my $JSON = JSON::PP->new->ascii->canonical;
my $START = time;

sub emit { print $JSON->encode({@_}), "\n" }

sub fail {
    my ($msg) = @_;
    emit(ev => 'error', message => $msg);
    exit 1;
}

$SIG{__DIE__} = sub { return if $^S; emit(ev => 'error', message => "die: $_[0]"); exit 1 };

my ($host, $port, @opts) = @ARGV;
fail('usage: netsmpp-server.pl HOST PORT [system_id=… password=… conns=N deliver_delay_ms=M limit_s=S]')
    unless defined $port && $port =~ /^\d+$/;
my %opt = (system_id => 'smppgw', password => 'secret', conns => 1, deliver_delay_ms => 200, limit_s => 8);
for (@opts) {
    my ($k, $v) = /^(\w+)=(.*)$/s or fail("bad option $_");
    exists $opt{$k} or fail("unknown option $k");
    $opt{$k} = $v;
}
my $LIMIT = $START + $opt{limit_s};

sub deadline_in { my $t = time + $_[0]; return $t < $LIMIT ? $t : $LIMIT }

# ---- PDU reporting (as in netsmpp-client.pl) -----------------------------------------------------

sub cmd_name {
    my ($id) = @_;
    my $t = Net::SMPP::pdu_tab()->{$id};
    return $t ? $t->{cmd} : sprintf('unknown_0x%08x', $id);
}

sub pdu_report {
    my ($p) = @_;
    my (%fields, %tlvs);
    for my $k (keys %$p) {
        next if $k =~ /^(cmd|status|seq|data|known_pdu|reserved)$/;
        if ($k =~ /^\d+$/) { $tlvs{ sprintf('0x%04x', $k) } = unpack('H*', $p->{$k}); next }
        next if exists $Net::SMPP::param_by_name{$k} && exists $p->{ $Net::SMPP::param_by_name{$k} };
        if ($k eq 'short_message') { $fields{short_message_hex} = unpack('H*', $p->{$k}); next }
        $fields{$k} = $p->{$k};
    }
    return (cmd => cmd_name($p->{cmd}), cmd_id => $p->{cmd} + 0, status => $p->{status} + 0,
        seq => $p->{seq} + 0, fields => \%fields, tlvs => \%tlvs, body => unpack('H*', $p->{data}));
}

sub hexargs {
    my %a = @_;
    for (qw(short_message receipted_message_id message_state)) { $a{$_} = unpack('H*', $a{$_}) if exists $a{$_} }
    return \%a;
}

# ---- serving ---------------------------------------------------------------------------------------

my $listener = Net::SMPP->new_listen($host, port => $port + 0, listen => 5, timeout => 5, smpp_version => 0x34)
    or fail("listen on $host:$port: $!");
emit(ev => 'listening', port => $listener->sockport + 0);

my $submits = 0;

# Deliveries sent after a receiver/transceiver bind.
my @DELIVERIES = (
    # A delivery receipt for perl-1: esm_class 0x04, receipted_message_id and message_state TLVs.
    [ service_type => '', source_addr_ton => 1, source_addr_npi => 1, source_addr => '447700900002',
      dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '447700900001',
      esm_class => 0x04, data_coding => 0x00,
      short_message => 'id:perl-1 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:Hello',
      receipted_message_id => "perl-1\0", message_state => "\x02" ],
    # A mobile-originated UCS-2 message whose bytes include 0x00 and high bytes.
    [ service_type => '', source_addr_ton => 1, source_addr_npi => 1, source_addr => '447700900009',
      dest_addr_ton => 0, dest_addr_npi => 0, destination_addr => '60000',
      esm_class => 0x00, protocol_id => 0, priority_flag => 1, data_coding => 0x08,
      short_message => "\x00R\x00e\x00:\x00 \x20\xac\x00\xe9\xd8\x3d\xde\x00" ],
);

# Runs $code with Net::SMPP's writes collected, then writes them with one syscall. (Net::SMPP
# writes each PDU with its own syswrite; a peer may or may not read two of them in one go.)
sub batched {
    my ($conn, $code) = @_;
    my $buf = '';
    {
        no warnings qw(redefine once);
        local *Net::SMPP::syswrite = sub { $buf .= $_[1]; return length $_[1] };
        $code->();
    }
    my $w = CORE::syswrite($conn, $buf);
    fail("batched write: $!") unless defined $w && $w == length $buf;
}

sub serve {
    my ($conn, $n) = @_;
    setsockopt($conn, SOL_SOCKET, SO_RCVTIMEO, pack('l!l!', 2, 0)) or fail("SO_RCVTIMEO: $!");
    my $bound = 0;
    my $deliver_at;
    my $unbound = 0;
    my %outstanding;    # seq => command we sent and await a response to
    my $send_deliveries = sub {
        for my $d (@DELIVERIES) {
            my $seq = $conn->deliver_sm(@$d, async => 1);
            $outstanding{$seq} = 'deliver_sm';
            emit(ev => 'sent', conn => $n, cmd => 'deliver_sm', seq => $seq + 0, args => hexargs(@$d));
        }
        my $seq = $conn->enquire_link(async => 1);
        $outstanding{$seq} = 'enquire_link';
        emit(ev => 'sent', conn => $n, cmd => 'enquire_link', seq => $seq + 0, args => {});
    };
    while (1) {
        if (defined $deliver_at && time >= $deliver_at) { undef $deliver_at; $send_deliveries->() }
        my $until = deadline_in($unbound ? 3 : 8);
        $until = $deliver_at if defined $deliver_at && $deliver_at < $until;
        my $left = $until - time;
        if (!IO::Select->new($conn)->can_read($left > 0 ? $left : 0)) {
            next if defined $deliver_at;
            fail("connection $n: nothing from the client in time" . ($unbound ? ' (no close after unbind)' : ''));
        }
        my $pdu = $conn->read_pdu();
        if (!$pdu) {
            my $why = ${*$conn}{smpperror} // 'read failed';
            fail("connection $n: read_pdu: $why") unless $why =~ /premature eof/;
            emit(ev => 'conn_end', conn => $n, reason => $unbound ? 'closed after unbind' : 'closed by client',
                outstanding => [ map { "$outstanding{$_}#$_" } sort keys %outstanding ]);
            return;
        }
        emit(ev => 'recv', conn => $n, pdu_report($pdu));
        my ($cmd, $seq) = ($pdu->{cmd}, $pdu->{seq});
        if ($cmd & 0x80000000) {
            delete $outstanding{$seq};
        } elsif ($cmd == Net::SMPP::CMD_bind_transceiver() || $cmd == Net::SMPP::CMD_bind_transmitter()
            || $cmd == Net::SMPP::CMD_bind_receiver()) {
            my $status = $bound ? 0x05    # ESME_RALYBND
                : $pdu->{system_id} ne $opt{system_id} ? 0x0f    # ESME_RINVSYSID
                : $pdu->{password} ne $opt{password} ? 0x0e      # ESME_RINVPASWD
                : 0;
            my $method = cmd_name($cmd) . '_resp';
            my $respond = sub {
                $conn->$method(seq => $seq, status => $status, system_id => 'perlsmsc');
                emit(ev => 'answered', conn => $n, cmd => $method, seq => $seq + 0, status => $status);
            };
            my $delivers = $status == 0 && $cmd != Net::SMPP::CMD_bind_transmitter();
            if ($delivers && $opt{deliver_delay_ms} <= 0) {
                batched($conn, sub { $respond->(); $send_deliveries->() });
            } else {
                $respond->();
                $deliver_at = time + $opt{deliver_delay_ms} / 1000 if $delivers;
            }
            $bound = cmd_name($cmd) if $status == 0;
        } elsif (!$bound && $cmd != Net::SMPP::CMD_enquire_link()) {
            # ESME_RINVBNDSTS; only submit_sm gets its own response, anything else generic_nack.
            my $method = $cmd == Net::SMPP::CMD_submit_sm() ? 'submit_sm_resp' : 'generic_nack';
            $conn->$method(seq => $seq, status => 0x04, ($method eq 'generic_nack' ? () : (message_id => '')));
            emit(ev => 'answered', conn => $n, cmd => $method, seq => $seq + 0, status => 4);
        } elsif ($cmd == Net::SMPP::CMD_submit_sm()) {
            my ($status, $id) = $pdu->{destination_addr} eq '000' ? (0x0b, '') : (0, 'perl-' . ++$submits);
            $conn->submit_sm_resp(seq => $seq, status => $status, message_id => $id);
            emit(ev => 'answered', conn => $n, cmd => 'submit_sm_resp', seq => $seq + 0, status => $status, message_id => $id);
        } elsif ($cmd == Net::SMPP::CMD_query_sm()) {
            $conn->query_sm_resp(seq => $seq, message_id => $pdu->{message_id}, final_date => '',
                message_state => 2, error_code => 0);
            emit(ev => 'answered', conn => $n, cmd => 'query_sm_resp', seq => $seq + 0, status => 0);
        } elsif ($cmd == Net::SMPP::CMD_enquire_link()) {
            $conn->enquire_link_resp(seq => $seq);
            emit(ev => 'answered', conn => $n, cmd => 'enquire_link_resp', seq => $seq + 0, status => 0);
        } elsif ($cmd == Net::SMPP::CMD_unbind()) {
            $conn->unbind_resp(seq => $seq);
            emit(ev => 'answered', conn => $n, cmd => 'unbind_resp', seq => $seq + 0, status => 0);
            $unbound = 1;
            $bound = 0;
            undef $deliver_at;
        } else {
            $conn->generic_nack(seq => $seq, status => 0x03);
            emit(ev => 'answered', conn => $n, cmd => 'generic_nack', seq => $seq + 0, status => 3);
        }
    }
}

eval {
    for my $n (1 .. $opt{conns}) {
        my $left = $LIMIT - time;
        IO::Select->new($listener)->can_read($left > 0 ? $left : 0) or fail("no connection $n in time");
        my $conn = $listener->accept() or fail("accept: $!");
        emit(ev => 'accepted', conn => $n, peer_port => $conn->peerport + 0);
        serve($conn, $n);
        $conn->close();
    }
    1;
} or fail("$@");

$listener->close();
emit(ev => 'done', ok => 1, elapsed_ms => int((time - $START) * 1000));
exit 0;
