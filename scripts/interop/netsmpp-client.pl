#!/usr/bin/perl
# Interop probe: Net::SMPP (Debian libnet-smpp-perl) as an ESME against an SMPP server (smppgw's).
#
#   netsmpp-client.pl HOST PORT MODE SYSTEM_ID PASSWORD [GOOD_PASSWORD]
#
#   MODE trx      bind_transceiver; six submit_sm (text, TLVs, binary with 0x00 and high bytes,
#                 UCS-2, message_payload, and a deliberately malformed TLV); enquire_link; query_sm;
#                 wait for two deliver_sm from the server and answer them; unbind; wait for EOF.
#        tx       bind_transmitter; one submit_sm; unbind; wait for EOF.
#        rx       bind_receiver; wait for the server to unbind us; answer; wait for EOF.
#        badpass  enquire_link before any bind; bind_transceiver with PASSWORD (meant to be
#                 refused); submit_sm while unbound; then, given GOOD_PASSWORD, bind_transceiver
#                 again on the same connection and unbind.
#
# Output: one JSON object per line on stdout, in the order things happened:
#   {"ev":"sent","cmd":…,"seq":…,"args":{…}}          a request we sent (short_message as hex)
#   {"ev":"recv","cmd":…,"cmd_id":…,"status":…,"seq":…,"fields":{…},"tlvs":{"0x0204":"hex"},"body":"hex"}
#                                                      a PDU as Net::SMPP decoded it (body: raw bytes)
#   {"ev":"answered","cmd":…,"seq":…}                  our response to a request the server sent
#   {"ev":"eof"} / {"ev":"done","ok":1}                the server closed the connection / we finished
#   {"ev":"error","message":…}                         then exit 1
# Every wait is bounded (select with a deadline; SO_RCVTIMEO so that a half-sent PDU cannot hang
# read_pdu); the whole run ends within about 8 s. Exit 0 when every request got a response; the
# response *values* are for the caller to judge.
#
# Net::SMPP quirks this script works around (1.19, as packaged by Debian):
# - Its synchronous calls (bind_transceiver() etc. without async) go through wait_pdu(), which
#   silently drops every PDU that is not the awaited response, except enquire_link: a deliver_sm
#   arriving then is lost unanswered, and a generic_nack never ends the wait. So everything here is
#   sent with async => 1 and read back by our own loop.
# - read_hard() does `alarm 0` after every read and installs its own local $SIG{ALRM}, so alarm()
#   cannot serve as a watchdog; we select() before read_pdu() instead.
# - A TLV given by name takes its value as raw bytes (pack it yourself). A TLV given by numeric tag
#   is packed by *value*: -128..126 as 1 byte, up to 32766 as 2, else 4 (signed). So
#   `0x0204 => 7` sends user_message_reference with length 1, which the spec does not allow.
# - encode_submit_resp (submit_sm_resp/deliver_sm_resp) croaks unless message_id is given, even ''.
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
my $RUN_LIMIT = 8;    # seconds for the whole run

sub emit { print $JSON->encode({@_}), "\n" }

sub fail {
    my ($msg) = @_;
    emit(ev => 'error', message => $msg);
    exit 1;
}

$SIG{__DIE__} = sub { return if $^S; emit(ev => 'error', message => "die: $_[0]"); exit 1 };

my ($host, $port, $mode, $system_id, $password, $good_password) = @ARGV;
fail('usage: netsmpp-client.pl HOST PORT trx|tx|rx|badpass SYSTEM_ID PASSWORD [GOOD_PASSWORD]')
    unless defined $password && $port =~ /^\d+$/ && $mode =~ /^(trx|tx|rx|badpass)$/;

# ---- PDU reporting -------------------------------------------------------------------------------

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
        # decode_optional_params stores each known TLV twice, by tag and by name; skip the name.
        # (A TLV named like a mandatory field, e.g. message_state in query_sm_resp, overwrites it.)
        next if exists $Net::SMPP::param_by_name{$k} && exists $p->{ $Net::SMPP::param_by_name{$k} };
        if ($k eq 'short_message') { $fields{short_message_hex} = unpack('H*', $p->{$k}); next }
        $fields{$k} = $p->{$k};
    }
    return (cmd => cmd_name($p->{cmd}), cmd_id => $p->{cmd} + 0, status => $p->{status} + 0,
        seq => $p->{seq} + 0, fields => \%fields, tlvs => \%tlvs, body => unpack('H*', $p->{data}));
}

sub args_report {
    my %a = @_;
    for my $k (keys %a) {
        $a{$k} = unpack('H*', $a{$k}) if $k eq 'short_message' || $k eq 'message_payload' || $k eq 'user_message_reference';
    }
    return \%a;
}

# ---- connection and the read loop ------------------------------------------------------------------

my $conn;
my %responses;      # seq => response PDU
my @delivered;      # deliver_sm PDUs the server sent us
my $peer_unbound = 0;
my $eof = 0;

sub deadline_in { my $t = time + $_[0]; my $cap = $START + $RUN_LIMIT; return $t < $cap ? $t : $cap }

# Reads one PDU, answering the server's requests on the way. Returns 0 on timeout, dies on EOF
# unless $eof_ok.
sub read_one {
    my ($deadline, $eof_ok) = @_;
    my $left = $deadline - time;
    return 0 if $left <= 0;
    return 0 unless IO::Select->new($conn)->can_read($left);
    my $pdu = $conn->read_pdu();
    if (!$pdu) {
        my $why = ${*$conn}{smpperror} // 'read failed';
        if ($why =~ /premature eof/) {
            $eof = 1;
            emit(ev => 'eof');
            return 1 if $eof_ok;
        }
        fail("read_pdu: $why");
    }
    emit(ev => 'recv', pdu_report($pdu));
    my $cmd = $pdu->{cmd};
    if ($cmd & 0x80000000) {
        $responses{ $pdu->{seq} } = $pdu;
    } elsif ($cmd == Net::SMPP::CMD_enquire_link()) {
        $conn->enquire_link_resp(seq => $pdu->{seq});
        emit(ev => 'answered', cmd => 'enquire_link_resp', seq => $pdu->{seq} + 0);
    } elsif ($cmd == Net::SMPP::CMD_deliver_sm()) {
        $conn->deliver_sm_resp(seq => $pdu->{seq}, message_id => '');
        emit(ev => 'answered', cmd => 'deliver_sm_resp', seq => $pdu->{seq} + 0);
        push @delivered, $pdu;
    } elsif ($cmd == Net::SMPP::CMD_unbind()) {
        $conn->unbind_resp(seq => $pdu->{seq});
        emit(ev => 'answered', cmd => 'unbind_resp', seq => $pdu->{seq} + 0);
        $peer_unbound = 1;
    } else {
        $conn->generic_nack(seq => $pdu->{seq}, status => 0x03);    # ESME_RINVCMDID
        emit(ev => 'answered', cmd => 'generic_nack', seq => $pdu->{seq} + 0, status => 3);
    }
    return 1;
}

sub await_response {
    my ($seq, $what) = @_;
    my $deadline = deadline_in(5);
    until (exists $responses{$seq}) {
        read_one($deadline) or fail("no response to $what (seq $seq) in time");
    }
    return delete $responses{$seq};
}

# Sends a request (async) and waits for its response. $method names the Net::SMPP call.
sub call {
    my ($method, @args) = @_;
    my $seq = $conn->$method(@args, async => 1);
    emit(ev => 'sent', cmd => $method, seq => $seq + 0, args => args_report(@args));
    return await_response($seq, $method);
}

sub wait_eof {
    my $deadline = deadline_in(3);
    until ($eof) { read_one($deadline, 1) or fail('server did not close the connection after unbind') }
}

sub connect_smpp {
    $conn = Net::SMPP->new_connect($host, port => $port + 0, timeout => 5, smpp_version => 0x34)
        or fail("connect to $host:$port: $!");
    setsockopt($conn, SOL_SOCKET, SO_RCVTIMEO, pack('l!l!', 2, 0)) or fail("SO_RCVTIMEO: $!");
    emit(ev => 'connected', local_port => $conn->sockport + 0);
}

# ---- the runs --------------------------------------------------------------------------------------

my @submits = (
    # 1: plain GSM text, international numbers, receipt requested.
    [ service_type => '', source_addr_ton => 1, source_addr_npi => 1, source_addr => '447700900001',
      dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '447700900002',
      esm_class => 0x00, protocol_id => 0, priority_flag => 0, registered_delivery => 0x01,
      data_coding => 0x00, short_message => 'Hello from Net::SMPP' ],
    # 2: alphanumeric sender, Latin-1 text with high bytes, three TLVs: one by name (raw value),
    #    two by numeric tag (Net::SMPP packs dest_port 2948 in 2 bytes, and 70000 for the
    #    vendor tag 0x1501, which neither side knows, in 4).
    [ service_type => 'CMT', source_addr_ton => 5, source_addr_npi => 0, source_addr => 'Interop',
      dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '447700900003',
      data_coding => 0x03, short_message => "Caf\xe9 \xa3",
      user_message_reference => pack('n', 0xBEEF), 0x020b => 2948, 0x1501 => 70000 ],
    # 3: binary with a UDH (esm_class UDHI), NUL and high bytes, priority, relative validity.
    [ source_addr_ton => 1, source_addr_npi => 1, source_addr => '447700900001',
      dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '447700900004',
      esm_class => 0x40, protocol_id => 0x7f, priority_flag => 3, validity_period => '000001000000000R',
      registered_delivery => 0x11, data_coding => 0xf6,
      short_message => "\x06\x05\x04\x0b\x84\x23\xf0\x00\x01\x80\xfe\xff\x00\x7f\x00" ],
    # 4: UCS-2 ("Hi " and U+1F600 as a surrogate pair).
    [ source_addr_ton => 2, source_addr_npi => 8, source_addr => '7700900001',
      dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '447700900005',
      data_coding => 0x08, short_message => "\x00H\x00i\x00 \xd8\x3d\xde\x00" ],
    # 5: empty short_message, text in message_payload (octets, with NUL and 0xff).
    [ source_addr_ton => 1, source_addr_npi => 1, source_addr => '447700900001',
      dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '447700900006',
      data_coding => 0x04, short_message => '', message_payload => "payload\x00\xff\x01" ],
    # 6: the numeric-tag quirk: user_message_reference 7 goes out with length 1 (spec: 2).
    [ source_addr_ton => 1, source_addr_npi => 1, source_addr => '447700900001',
      dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '447700900007',
      short_message => 'bad tlv', 0x0204 => 7 ],
);

eval {
    connect_smpp();
    if ($mode eq 'trx') {
        call('bind_transceiver', system_id => $system_id, password => $password, system_type => 'interop',
            interface_version => 0x34, addr_ton => 1, addr_npi => 1, address_range => '');
        my @ids;
        for my $s (@submits) { push @ids, call('submit_sm', @$s)->{message_id} }
        call('enquire_link');
        call('query_sm', message_id => $ids[0], source_addr_ton => 1, source_addr_npi => 1,
            source_addr => '447700900001');
        my $deadline = deadline_in(5);
        until (@delivered >= 2) { read_one($deadline) or fail('no two deliver_sm from the server in time') }
        call('unbind');
        wait_eof();
    } elsif ($mode eq 'rx') {
        call('bind_receiver', system_id => $system_id, password => $password, system_type => 'rx',
            addr_ton => 1, addr_npi => 1, address_range => '^4477');
        my $deadline = deadline_in(5);
        until ($peer_unbound) { read_one($deadline) or fail('the server did not unbind us in time') }
        wait_eof();
    } elsif ($mode eq 'tx') {
        call('bind_transmitter', system_id => $system_id, password => $password, system_type => '');
        call('submit_sm', source_addr_ton => 0, source_addr_npi => 0, source_addr => '',
            dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '447700900099',
            short_message => 'transmitter');
        call('unbind');
        wait_eof();
    } else {
        call('enquire_link');
        call('bind_transceiver', system_id => $system_id, password => $password);
        call('submit_sm', destination_addr => '447700900098', short_message => 'not bound');
        if (defined $good_password) {
            call('bind_transceiver', system_id => $system_id, password => $good_password);
            call('unbind');
            wait_eof();
        }
    }
    1;
} or fail("$@");

$conn->close() if $conn;
emit(ev => 'done', ok => 1, elapsed_ms => int((time - $START) * 1000));
exit 0;
